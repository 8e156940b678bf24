"""Reference posteriors and the accuracy verdict (issue #8, part 1).

The fake backend ``fake_exact`` samples ``normal_mean`` exactly from its conjugate posterior, so a
reference it makes is known, and "fits" that are exact, slightly biased or clearly biased are drawn
here directly.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from harness import accuracy as acc
from harness.cli import main
from harness.reference import core
from tests.fakes import exact
from tests.helpers import has_row


def _exact_draws(rng, data, chains=4, draws=1000, shift_sd=0.0):
    mean, sd = exact.posterior(data)
    return {"mu": rng.normal(mean + shift_sd * sd, sd, size=(chains, draws))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A normal_mean reference made by fake_exact through the backend protocol (10 chains)."""
    root = tmp_path_factory.mktemp("refs")
    ref = core.generate("normal_mean", "fake_exact", "fake_exact", chains=10, draws=2000, thinned=5000,
                        ess_target=5000, log=lambda msg: None)
    core.write(ref, root, ["test"])
    return root, ref


def test_reference_files_and_provenance(reference):
    root, ref = reference
    assert ref.valid, ref.problems
    folder = root / "normal_mean"
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == ["parameter", "mean", "sd", "mcse_mean", "mcse_sd", "q05", "q50", "q95",
                                     "mcse_q05", "mcse_q95"]
    assert list(summary.parameter) == ["mu"]
    from harness.catalogue import get_model

    data = get_model("normal_mean").data()
    mean, sd = exact.posterior(data)
    row = summary.iloc[0]
    assert abs(row["mean"] - mean) < 4 * row["mcse_mean"] and row["sd"] == pytest.approx(sd, rel=0.03)
    assert row["mcse_mean"] == pytest.approx(sd / np.sqrt(20_000), rel=0.15)  # iid: ESS = all draws
    with np.load(folder / core.DRAWS_FILE) as draws:
        assert draws["mu"].shape == (5000,) and draws["mu"].dtype == np.float32  # stored compact
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["size"] == "K=1000" and prov["backend"] == "fake_exact" and prov["valid"]
    assert prov["settings"]["chains"] == 10 and prov["divergences"] == 0 and prov["rhat_max"] < 1.01
    assert prov["ebfmi"].startswith("unavailable")  # the fake reports no energy
    assert prov["check"]["accuracy"] == "PASS" and "machine" in prov and "git" in prov
    assert not (folder / "REASON.md").exists()


def test_accuracy_pass_review_fail_and_no_reference(reference):
    root, _ = reference
    from harness.catalogue import get_model

    data = get_model("normal_mean").data()
    rng = np.random.default_rng(3)
    ok = acc.accuracy("normal_mean", "K=1000", _exact_draws(rng, data), root=root)
    assert ok["accuracy"] == "PASS" and ok["accuracy_worst"].startswith("mu (") and abs(ok["accuracy_z"]) < 4
    bad = acc.accuracy("normal_mean", "K=1000", _exact_draws(rng, data, shift_sd=0.3), root=root)
    assert bad["accuracy"] == "FAIL" and bad["accuracy_z"] > 5
    # a 0.03-sd bias measured very precisely: significant but below 0.05 sd -> REVIEW
    tiny = acc.accuracy("normal_mean", "K=1000", _exact_draws(rng, data, chains=4, draws=200_000, shift_sd=0.03),
                        root=root)
    assert tiny["accuracy"] == "REVIEW", tiny
    other = acc.accuracy("normal_mean", "K=10", _exact_draws(rng, data), root=root)
    assert other["accuracy"] == "no reference" and "size" in other["accuracy_note"]
    assert acc.accuracy("two_groups_pooled", "", _exact_draws(rng, data), root=root)["accuracy"] == "no reference"


def test_invalid_reference_writes_reason(tmp_path):
    ref = core.Reference("normal_mean", "K=1000", "fake_exact", False, ["12 divergent transitions in 10 x 100 draws"],
                         facts={"settings": {"chains": 10, "warmup": 10, "draws": 100}, "ess_bulk_min": 50.0,
                                "rhat_max": 1.2, "divergences": 12, "ebfmi": "unavailable"})
    folder = core.write(ref, tmp_path, ["test"])
    assert "12 divergent transitions" in (folder / "REASON.md").read_text()
    assert not (folder / "summary.csv").exists()
    result = acc.accuracy("normal_mean", "K=1000", {"mu": np.zeros((2, 10))}, root=tmp_path)
    assert result["accuracy"] == "no reference" and "REASON.md" in result["accuracy_note"]


def _stats(rows: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """{parameter: {statistic: (estimate, se)}} -> a statistics table as ``acc.cell_statistics`` writes it."""
    return pd.DataFrame([{"parameter": p, "statistic": s, "estimate": e, "se": se}
                         for p, by in rows.items() for s, (e, se) in by.items()])


def _ref(**cols) -> pd.DataFrame:
    base = {"parameter": ["a", "b"], "mean": [0.0, 0.0], "sd": [1.0, 1.0], "mcse_mean": [0.01, 0.01],
            "mcse_sd": [0.01, 0.01], "q05": [-1.645, -1.645], "q50": [0.0, 0.0], "q95": [1.645, 1.645],
            "mcse_q05": [0.02, 0.02], "mcse_q95": [0.02, 0.02]}
    return pd.DataFrame({**base, **cols})


def _fit(a: dict | None = None) -> pd.DataFrame:
    exact = {"mean": (0.0, 0.01), "sd": (1.0, 0.01), "q05": (-1.645, 0.02), "q95": (1.645, 0.02)}
    return _stats({"a": {**exact, **(a or {})}, "b": exact})


def test_compare_holm_spread_and_missing_scalars():
    ref = _ref()
    # z = 0.035 / 0.0141 = 2.47: p = 0.013, Holm over 8 tests -> 0.11 > 0.01 -> PASS
    assert acc.compare(ref, _fit({"mean": (0.035, 0.01)}))["accuracy"] == "PASS"
    out = acc.compare(ref, _fit({"mean": (0.2, 0.01)}))  # z = 14, 0.2 sd -> FAIL
    assert out["accuracy"] == "FAIL" and out["accuracy_worst"] == "a (mean)"
    # spread: an sd 10% too large, well measured, FAILs; 3% too large is REVIEW (below the 5% threshold)
    wide = acc.compare(ref, _fit({"sd": (1.10, 0.005)}))
    assert wide["accuracy"] == "FAIL" and wide["accuracy_statistic"] == "sd"
    precise = _ref(mcse_sd=[0.002, 0.002])
    assert acc.compare(precise, _fit({"sd": (1.03, 0.002)}))["accuracy"] == "REVIEW"
    # a quantile off by 0.2 sd FAILs
    assert acc.compare(ref, _fit({"q95": (1.845, 0.02)}))["accuracy_statistic"] == "q95"
    missing = _fit()
    assert acc.compare(ref, missing[missing["parameter"] == "b"])["accuracy"] == "FAIL"  # a scalar the fit lacks


def test_pooling_repeats_adds_precision():
    """Three repeats whose mean is 0.1 sd off, each too noisy to FAIL alone, FAIL together."""
    ref = _ref(mcse_mean=[0.005, 0.005])
    one = _fit({"mean": (0.1, 0.03)})
    assert acc.compare(ref, one)["accuracy"] != "FAIL"
    pooled = acc.pool([one, one, one, one, one, one])
    row = pooled[(pooled["parameter"] == "a") & (pooled["statistic"] == "mean")].iloc[0]
    assert row["estimate"] == pytest.approx(0.1) and row["se"] == pytest.approx(0.03 / np.sqrt(6))
    assert row["repeats"] == 6
    assert acc.compare(ref, pooled)["accuracy"] == "FAIL"


def test_power_of_the_spread_test():
    """The stated power: an sd 10% too large with se 0.8% of the sd (fit and reference combined) is FAILed
    with probability > 99% over 72 tests (91% at se 1%); at the 5% threshold itself with <= 1%."""
    assert acc.power(0.10, 0.05, 0.008, tests=72) > 0.99
    assert acc.power(0.10, 0.05, 0.01, tests=72) == pytest.approx(0.91, abs=0.01)
    assert acc.power(0.05, 0.05, 0.01, tests=72) < 0.01


def test_ebfmi_and_thinning():
    rng = np.random.default_rng(0)
    assert core.ebfmi(rng.normal(size=(2, 4000))) == pytest.approx([2.0, 2.0], rel=0.1)  # iid energy: 2
    walk = np.cumsum(rng.normal(size=(1, 4000)), axis=1)
    assert core.ebfmi(walk)[0] < 0.2
    chain, draw, factor, candidates = core.thin_indices(10, 3000, 7500.0, 5000)
    assert factor == 4 and candidates == 7500 and len(chain) == 5000 and np.all(draw % 4 == 0)


def test_default_backend_by_capability(monkeypatch):
    from harness.backends import backend_names, load_module

    chosen = core.default_backend()
    assert chosen in backend_names()
    module = load_module(chosen)
    assert module.CAPABILITIES.reference_quality  # declared by the backend module
    monkeypatch.setattr(module, "CAPABILITIES", dataclasses.replace(module.CAPABILITIES, reference_quality=False))
    assert core.default_backend() != chosen  # the next declaring (or, failing that, cheapest) backend
    family = load_module(core.default_backend()).CAPABILITIES.family
    assert load_module(core.default_backend(exclude_family=family)).CAPABILITIES.family != family
    assert load_module(core.default_backend(families=["pymc"])).CAPABILITIES.family == "pymc"


def test_reference_command(tmp_path, monkeypatch, capsys):
    import harness.threads

    monkeypatch.setattr(harness.threads, "worker_env", lambda *args, **kwargs: {})  # keep this process's env
    assert main(["reference", "--models", "normal_mean", "--backend", "fake_exact", "--check-backend", "none",
                 "--draws", "500", "--thinned", "2000", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert has_row(out, "normal_mean", "K=1000", "fake_exact") and "valid" in out
    assert (tmp_path / "normal_mean" / "draws.npz").is_file()


def test_committed_references_are_complete():
    """Every catalogue model has a reference or a REASON.md under results/references/."""
    from harness.catalogue import model_names

    root = acc.reference_root()
    if not root.is_dir():
        pytest.skip("no results/references in this checkout")
    for model in model_names():
        folder = root / model
        has_ref = (folder / "summary.csv").is_file() and (folder / "draws.npz").is_file()
        assert has_ref or (folder / "REASON.md").is_file(), model
        assert (folder / "provenance.json").is_file(), model


def test_a_stored_run_is_scored_from_its_saved_draws(tmp_path):
    import json

    from harness.accuracy import score_run
    from harness.results import load_results
    from harness.run.plan import RunPlan
    from harness.run.runner import run
    from harness.settings import SamplerSettings

    plan = RunPlan(models=["normal_mean"], backends=["fake_exact"], equivalence=False, save_draws=True,
                   settings=SamplerSettings(chains=2, warmup=10, draws=500))
    out = run(plan, tmp_path / "run", progress=False)
    cell = next((out / "cells").glob("*.json"))
    worker_verdict = json.loads(cell.read_text())["accuracy"]
    record = json.loads(cell.read_text())
    record.pop("accuracy")  # as if made before references existed
    cell.write_text(json.dumps(record))
    assert score_run(out) == 1
    frame, _ = load_results(out)
    assert frame.loc[0, "accuracy"] == worker_verdict == "PASS"  # the exact sampler agrees with the reference
    assert score_run(out) == 0  # already scored


def test_a_chance_significant_difference_of_a_correct_sampler_is_review_not_fail():
    """Seen in a real run: nutpie on normal_mean, z = -2.61 at bulk ESS 1,900 (0.064 sd). A correct
    sampler gets a significant difference by chance; only one significantly above its threshold may FAIL."""
    sd, ref_se = 0.031813, 0.000279
    ref = pd.DataFrame({"parameter": ["mu"], "mean": [1.012253], "sd": [sd], "mcse_mean": [ref_se]})
    se_fit = sd / np.sqrt(1903)
    fit = _stats({"mu": {"mean": (1.012253 - 2.61 * np.hypot(se_fit, ref_se), se_fit)}})
    assert acc.compare(ref, fit)["accuracy"] == "REVIEW"
    fit = _stats({"mu": {"mean": (1.012253 - 0.15 * sd, se_fit)}})  # a 0.15-sd bias at the same precision
    assert acc.compare(ref, fit)["accuracy"] == "FAIL"
