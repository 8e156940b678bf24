"""SBC end to end: outputs, Dask workers, failures counted (never dropped), resume = uninterrupted run.

Uses the fake backends of ``tests/conftest.py`` (``fake_exact`` samples ``normal_mean`` exactly from
its conjugate posterior; the others raise, crash, hang or return NaN) and, for batching and resume,
the real NumPyro backend on ``normal_mean`` with short chains.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.backends import availability, load_module
from harness.cli import main
from harness.sbc.markdown import markdown_table
from harness.sbc.plan import SBCPlan, default_sims
from harness.sbc.run import run_sbc
from harness.sbc.store import SBCStore
from harness.sbc.summary import finalise, load_summary
from harness.settings import SamplerSettings
from tests.fakes import exact
from tests.helpers import has_row, table_rows

FAST = SamplerSettings(chains=1, warmup=10, draws=200, cores=1)
BRIEF_SUMMARY_COLUMNS = [
    "model", "backend", "sims", "ok", "failed", "failed_frac", "divergent_frac", "verdict", "verdict_no_divergent",
    "failed_quantities", "coverage_50", "coverage_80", "coverage_95", "chi2_min_p", "reps_per_s", "wall_s", "settings",
]


def plan_for(backends, sims, **kw):
    return SBCPlan(models=["normal_mean"], backends=list(backends), sims={b: sims for b in backends},
                          settings=kw.pop("settings", FAST), **kw)


def test_dask_run_writes_every_output_with_uniform_ranks_for_the_exact_backend(tmp_path):
    out = run_sbc(plan_for(["fake_exact"], 100), tmp_path / "run", cores=2, progress=False)
    for name in ("manifest.json", "sbc.json", "replicates.jsonl", "timing.json", "ranks.csv", "summary.csv",
                 "quantities.csv", "figures/normal_mean__fake_exact.png"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[: len(BRIEF_SUMMARY_COLUMNS)]) == BRIEF_SUMMARY_COLUMNS
    row = summary.iloc[0]
    assert (row.sims, row.ok, row.failed) == (100, 100, 0)
    # the exact backend fails a verdict at most alpha = 5% of the time (tests/test_sbc_stats.py); here we
    # check the plumbing (truth, data and fit of the same replicate): mismatched ones give p ~ 0
    assert row.verdict in ("pass", "pass (weak)", "flagged (not confirmed)") and row.chi2_min_p > 1e-4
    assert 0 < row.power_shift < 0.5 and row.quantities == 3 and row.screen_verdict in ("pass", "flag")
    assert row.reps_per_s > 0 and 0.8 < row.coverage_95 / 0.95 < 1.1
    ranks = pd.read_csv(out / "ranks.csv")
    assert len(ranks) == 300 and set(ranks.quantity) == {"mu", "loglik", "joint"}
    assert ranks["rank"].between(0, 39).all() and (ranks.n_kept == 39).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["sims"] == {"fake_exact": 100} and "machine" in manifest
    assert manifest["settings"]["thread_env"]["OMP_NUM_THREADS"] == "1"  # one thread per worker


def test_failures_in_workers_are_counted_not_dropped(tmp_path):
    backends = ["fake_raise", "fake_nan", "fake_crash", "fake_hang"]
    plan = plan_for(backends, 2, timeout_s=4.0)
    out = run_sbc(plan, tmp_path / "run", cores=2, progress=False, figures=False)
    summary = pd.read_csv(out / "summary.csv").set_index("backend")
    for b in backends:
        assert summary.loc[b, "sims"] == 2 and summary.loc[b, "failed"] == 2, b
        assert summary.loc[b, "verdict"] == "inconclusive"
    records = SBCStore(out).records()
    errors = {b: records[("normal_mean", b, 0)]["error"] for b in backends if b != "fake_raise"}
    assert "non-finite draws" in errors["fake_nan"]
    assert "fit process died" in errors["fake_crash"]
    assert "timeout" in errors["fake_hang"]
    # a compile failure is recorded once, with the replicates it cost, not as one failure per replicate
    assert not [k for k in records if k[1] == "fake_raise"]
    failure = SBCStore(out).compile_failures()["normal_mean__fake_raise"]
    assert failure["replicates"] == 2 and "deliberate failure at compile" in failure["error"]
    assert summary.loc["fake_raise", "compile_failed"] == 2
    assert "deliberate failure at compile" in summary.loc["fake_raise", "compile_error"]
    assert (summary.drop(index="fake_raise")["compile_failed"] == 0).all()
    text = markdown_table(load_summary(out))
    assert "2 (100.0%; 2 at compile)" in text and "the model did not compile; that cost 2 replicate(s)" in text
    ranks = pd.read_csv(out / "ranks.csv")
    assert len(ranks) == 6 and (ranks.status == "failed").all()  # one row per failed replicate that ran


def test_a_compile_failure_stops_its_pair_and_resume_tries_again(tmp_path, monkeypatch):
    """In process: 20 replicates of a model that does not compile cost one compile attempt, one entry."""
    calls = []
    real = exact.compile

    def failing(spec, data, settings):
        calls.append(1)
        raise RuntimeError("no compiler today")

    monkeypatch.setattr(exact, "compile", failing)
    out = run_sbc(plan_for(["fake_exact"], 20), tmp_path / "run", in_process=True, progress=False, figures=False,
                  log=lambda msg: None)
    assert len(calls) == 1 and not SBCStore(out).records()
    assert SBCStore(out).compile_failures()["normal_mean__fake_exact"]["replicates"] == 20
    row = pd.read_csv(out / "summary.csv").iloc[0]
    assert (row.sims, row.failed, row.compile_failed, row.verdict) == (20, 20, 20, "inconclusive")
    # the compiler is back: a resumed run compiles, runs every replicate and clears the entry
    monkeypatch.setattr(exact, "compile", real)
    run_sbc(plan_for(["fake_exact"], 20), out, in_process=True, progress=False, figures=False, log=lambda msg: None)
    assert len(SBCStore(out).records()) == 20 and SBCStore(out).compile_failures() == {}
    row = pd.read_csv(out / "summary.csv").iloc[0]
    assert (row.sims, row.ok, row.compile_failed) == (20, 20, 0)


def _fail_on(seeds_to_fail):
    original = exact.sample

    def sample(compiled, data, settings, seed):
        if seed in seeds_to_fail:
            raise RuntimeError("injected failure")
        return original(compiled, data, settings, seed)

    return sample


@pytest.mark.parametrize("n_failed,inconclusive", [(1, False), (3, True)])
def test_failed_replicate_counts_toward_the_verdict(tmp_path, monkeypatch, n_failed, inconclusive):
    from harness.sbc.worker import replicate_streams

    seeds = {replicate_streams(0, "normal_mean", i)[1] for i in range(n_failed)}
    monkeypatch.setattr(exact, "sample", _fail_on(seeds))
    out = run_sbc(plan_for(["fake_exact"], 40), tmp_path / "run", in_process=True, progress=False, figures=False)
    row = pd.read_csv(out / "summary.csv").iloc[0]
    assert (row.sims, row.ok, row.failed) == (40, 40 - n_failed, n_failed)
    assert (row.verdict == "inconclusive") == inconclusive  # 1/40 = 2.5% failed: a verdict; 3/40 = 7.5%: none
    ranks = pd.read_csv(out / "ranks.csv")
    failed = ranks[ranks.status == "failed"]
    assert sorted(failed.replicate) == list(range(n_failed)) and failed.error.str.contains("injected").all()


def test_bad_input_is_rejected_before_work_starts(tmp_path, capsys):
    assert main(["sbc", "--models", "no_such_model", "--out", str(tmp_path / "a")]) == 2
    assert "valid models" in capsys.readouterr().err
    assert main(["sbc", "--backends", "no_such_backend", "--out", str(tmp_path / "b")]) == 2
    assert main(["sbc", "--models", "normal_mean", "--backends", "fake_missing", "--out", str(tmp_path / "c")]) == 2
    assert "unavailable" in capsys.readouterr().err
    assert main(["sbc", "--models", "normal_mean", "--backends", "fake_exact", "--sims", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["sbc", "--sims", "pyro=x"]) == 2
    assert main(["sbc", "--backends", "fake_exact", "--models", "normal_mean", "--cores", "0"]) == 2
    assert main(["sbc", "--backends", "fake_exact", "--models", "normal_mean", "--draws", "10"]) == 2
    assert "kept" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_cli_prints_the_table_and_resume_extends_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["sbc", "--models", "normal_mean", "--backends", "fake_exact", "--cores", "1", "--warmup", "10",
            "--draws", "200", "--no-progress", "--no-figures"]
    assert main(args + ["--sims", "25", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert has_row(text, "normal_mean", "fake_exact", "25") and "pass" in text
    assert main(["sbc", "--resume", str(out), "--sims", "30", "--cores", "1", "--no-progress", "--no-figures"]) == 0
    assert has_row(capsys.readouterr().out, "normal_mean", "fake_exact", "30")
    assert main(["sbc", "--resume", str(out), "--warmup", "20"]) == 2
    assert "cannot change on resume" in capsys.readouterr().err


numpyro_missing = availability().get("numpyro")


@pytest.mark.skipif(bool(numpyro_missing), reason=f"numpyro unavailable: {numpyro_missing}")
def test_numpyro_batches_resume_to_the_same_ranks(tmp_path):
    """10 replicates then resumed to 20 (batch 4: [8, 12) is padded first, full later), with a torn
    last line as a kill mid-write leaves, equals a fresh run of 20."""
    settings = SamplerSettings(chains=1, warmup=100, draws=200, cores=1)
    plan = SBCPlan(models=["normal_mean"], backends=["numpyro"], sims={"numpyro": 10}, settings=settings,
                          kept=19, batch=4)
    resumed = tmp_path / "resumed"
    run_sbc(plan, resumed, in_process=True, progress=False, figures=False)
    with open(resumed / "replicates.jsonl", "a") as fh:
        fh.write('{"model": "normal_mean", "backend": "numpyro", "repl')  # torn line
    plan.sims = {"numpyro": 20}
    run_sbc(plan, resumed, in_process=True, progress=False, figures=False)
    fresh = run_sbc(plan, tmp_path / "fresh", in_process=True, progress=False, figures=False)

    a, b = SBCStore(resumed).records(), SBCStore(fresh).records()
    assert sorted(a) == sorted(b) and len(a) == 20
    for key in a:
        for field in ("status", "ranks", "seed", "divergences", "thin"):
            assert a[key].get(field) == b[key].get(field), (key, field)
    ranks_a = pd.read_csv(resumed / "ranks.csv")
    ranks_b = pd.read_csv(tmp_path / "fresh" / "ranks.csv")
    pd.testing.assert_frame_equal(ranks_a, ranks_b)
    row = pd.read_csv(resumed / "summary.csv").iloc[0]
    assert row.sims == 20 and row.ok + row.failed == 20 and np.isfinite(row.reps_per_s)


def test_sims_option_sets_every_backend_or_some():
    from harness.sbc.command import parse_sims, sims_overrides

    backends = ["numpyro", "pyro"]
    defaults = default_sims(backends)
    assert defaults == {b: load_module(b).CAPABILITIES.sbc_replicates for b in backends}
    assert parse_sims(None, backends) == defaults
    assert parse_sims("50", backends) == {"numpyro": 50, "pyro": 50}
    assert parse_sims("pyro=7", backends) == {"numpyro": defaults["numpyro"], "pyro": 7}
    assert parse_sims("50,pyro=7", backends) == {"numpyro": 50, "pyro": 7}
    assert sims_overrides("pyro=7", backends) == {"pyro": 7}  # on --resume, only what is named changes


def test_a_run_directory_serves_one_process_at_a_time(tmp_path):
    import fcntl

    from harness.settings import SettingsError

    out = tmp_path / "run"
    (out / "logs").mkdir(parents=True)
    with open(out / "logs" / "run.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(SettingsError, match="in use"):
            run_sbc(plan_for(["fake_exact"], 5), out, in_process=True, progress=False)


# ---------------------------------------------------------------- confirmation, Holm, power (issue #8)


def test_confirm_reruns_flags_on_fresh_data_and_only_confirmed_flags_fail(tmp_path, monkeypatch):
    from harness import backends

    monkeypatch.setitem(backends.REGISTRY, "fake_biased", "tests.fakes.biased")
    plan = plan_for(["fake_exact", "fake_biased"], 20)
    out = run_sbc(plan, tmp_path / "run", in_process=True, progress=False, figures=False, confirm=True,
                         log=lambda msg: None)
    summary = pd.read_csv(out / "summary.csv").set_index("backend")
    biased, exact_row = summary.loc["fake_biased"], summary.loc["fake_exact"]
    assert biased.screen_verdict == "flag" and biased.verdict == "fail"
    assert biased.confirm_sims >= 60 and biased.confirm_p_holm < 0.05 and "confirmed on" in biased.verdict_reason
    assert exact_row.screen_verdict == "pass" and exact_row.verdict == "pass (weak)"  # 20 replicates: low power
    assert exact_row.power_shift > 0.5 and exact_row.confirm_sims == 0
    screen = SBCStore(out).records()
    confirm = SBCStore(out, "confirm").records()
    assert all(r["stage"] == "confirm" for r in confirm.values())
    assert {k[1] for k in confirm} == {"fake_biased"}  # only the flagged combination is confirmed
    seeds = {r["seed"] for r in screen.values() if r["backend"] == "fake_biased"}
    assert not seeds & {r["seed"] for r in confirm.values()}  # fresh data sets: a separate seed stream
    plan_back = SBCPlan.from_dict(SBCStore(out).read_plan())
    assert plan_back.confirm == {"normal_mean__fake_biased": int(biased.confirm_sims)}
    text = markdown_table(load_summary(out))
    assert table_rows(text)[0][:5] == ["model", "backend", "replicates", "failed", "verdict"]
    assert "Error control: 2 conclusive combination(s)" in text and "expect up to 0.10 first-stage flag" in text


def _row(**kw):
    base = {"screen_verdict": "flag", "p_value": 0.01, "power_shift": 0.3, "quantities": 3, "confirm_sims": 100,
            "confirm_ok": 100, "confirm_p": 0.5, "confirm_failed_quantities": "", "failed_quantities": "mu",
            "verdict_reason": "", "confirm_p_holm": float("nan"), "confirm_power_shift": float("nan"), "holm_family": 0}
    return {**base, **kw}


def test_finalise_holm_over_confirmations_and_labels():
    rows = [_row(confirm_p=0.02), _row(confirm_p=0.03), _row(confirm_p=0.63), _row(confirm_sims=0),
            _row(screen_verdict="pass", power_shift=0.86), _row(screen_verdict="pass"), _row(screen_verdict="inconclusive"),
            _row(confirm_p=float("nan"), confirm_reason="4/60 fits failed")]
    finalise(rows, 39, 0.05)
    # Holm over 3 confirmations: 0.02 x 3 = 0.06, 0.03 x 2 = 0.06, 0.63: nothing below 0.05
    assert [r["confirm_p_holm"] for r in rows[:3]] == pytest.approx([0.06, 0.06, 0.63])
    assert [r["verdict"] for r in rows] == [
        "pass (flag not confirmed)", "pass (flag not confirmed)", "pass (flag not confirmed)",
        "flagged (not confirmed)", "pass (weak)", "pass", "inconclusive", "flagged (confirmation inconclusive)"]
    rows = [_row(confirm_p=0.001), _row(confirm_p=0.6)]
    finalise(rows, 39, 0.05)
    assert rows[0]["verdict"] == "fail" and rows[0]["holm_family"] == 2
    assert rows[1]["confirm_power_shift"] < 0.5  # 100 replicates at level 0.05 / (2 x 3)


def test_no_divergent_verdict_counts_excluded_fits_as_failed(tmp_path, monkeypatch):
    import harness.sbc.worker as worker_mod

    real = worker_mod.run_task

    def with_divergences(task):
        records = real(task)
        for r in records:
            if r["replicate"] % 10 == 0:
                r["divergences"] = 1  # 10% of fits "divergent"
        return records

    monkeypatch.setattr(worker_mod, "run_task", with_divergences)
    out = run_sbc(plan_for(["fake_exact"], 40), tmp_path / "run", in_process=True, progress=False,
                         figures=False, log=lambda msg: None)
    row = pd.read_csv(out / "summary.csv").iloc[0]
    assert row.verdict_no_divergent == "inconclusive" and row.excluded_frac_no_divergent == pytest.approx(0.1)
