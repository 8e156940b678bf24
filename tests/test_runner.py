"""The runner: fair seeds, failure isolation, atomic records, clear errors on bad input."""

import json

import pandas as pd
import pytest

from harness.errors import HarnessInputError
from harness.results import load_results
from harness.run.plan import RunPlan, cell_seed, plan_cells
from harness.run.runner import run
from harness.settings import SamplerSettings, SettingsError
from harness.spec import parse_size

TINY = SamplerSettings(chains=2, warmup=10, draws=200)


def test_every_backend_gets_the_same_seed_per_model_and_repeat():
    plan = RunPlan(models=["normal_mean", "eight_schools_noncentered"], backends=["fake_exact", "pymc"],
                   settings=TINY, repeats=2, root_seed=3)
    cells = plan_cells(plan)
    by_key = {}
    for c in cells:
        by_key.setdefault((c.model, c.repeat), set()).add(c.seed)
    assert all(len(seeds) == 1 for seeds in by_key.values())
    assert len({s for seeds in by_key.values() for s in seeds}) == 4  # distinct across models/repeats
    assert cell_seed(3, "normal_mean", "K=1000", 0) == cell_seed(3, "normal_mean", "K=1000", 0)
    assert cell_seed(3, "normal_mean", "K=1000", 0) != cell_seed(4, "normal_mean", "K=1000", 0)


def test_size_sweep_applies_only_to_models_with_that_size():
    plan = RunPlan(models=["logistic_regression", "normal_mean"], backends=["fake_exact"], settings=TINY,
                   sizes=[{"N": 100}, {"N": 200, "D": 3}])
    cells = plan_cells(plan)
    sizes = [(c.model, tuple(sorted(c.size.items()))) for c in cells]
    assert sizes == [("logistic_regression", (("N", 100),)), ("logistic_regression", (("D", 3), ("N", 200))),
                     ("normal_mean", ())]
    assert parse_size("N=1e4, D=5") == {"N": 10000, "D": 5}
    for bad in ("N", "N=x", "N=0"):
        with pytest.raises(HarnessInputError):
            parse_size(bad)


@pytest.mark.parametrize(
    "plan_kwargs, message",
    [
        ({"models": ["nope"]}, "valid models: .*normal_mean"),
        ({"backends": ["nope"]}, "valid backends: pymc, .*numpyro.*stan"),
        ({"repeats": 0}, "repeats must be a positive integer"),
        ({"sizes": [{"Q": 3}]}, "fits none of the selected models"),
        ({"backends": ["fake_exact", "fake_exact"]}, "backends listed more than once: fake_exact"),
    ],
)
def test_bad_input_is_refused_before_any_work(tmp_path, plan_kwargs, message):
    kwargs = {"models": ["normal_mean"], "backends": ["fake_exact"], "settings": TINY, **plan_kwargs}
    with pytest.raises(ValueError, match=message):
        run(RunPlan(**kwargs), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "cells").exists() or not list((tmp_path / "run" / "cells").iterdir())


@pytest.mark.parametrize("field, value", [("draws", 0), ("chains", -1), ("target_accept", 1.0), ("device", "tpu")])
def test_invalid_sampler_settings(field, value):
    with pytest.raises(SettingsError, match=field.split("_")[0]):
        SamplerSettings(**{field: value})


def test_failures_are_isolated_and_recorded(tmp_path):
    """A crash, a hang, an exception, NaN draws and a missing library each become a row; the good cell survives."""
    backends = ["fake_exact", "fake_raise", "fake_crash", "fake_hang", "fake_nan", "fake_missing"]
    plan = RunPlan(models=["normal_mean"], backends=backends, settings=TINY, timeout_s=20, equivalence=False)
    out = run(plan, tmp_path / "run", progress=False)
    frame, manifest = load_results(out)
    status = dict(zip(frame["backend"], frame["status"]))
    assert status == {"fake_exact": "ok", "fake_raise": "failed", "fake_crash": "crashed", "fake_hang": "timeout",
                      "fake_nan": "failed", "fake_missing": "unavailable"}
    errors = dict(zip(frame["backend"], frame["error"].fillna("")))
    assert "deliberate failure at compile" in errors["fake_raise"]
    assert "exited with code 139" in errors["fake_crash"]
    assert "no result after 20 s" in errors["fake_hang"]
    assert "non-finite draws" in errors["fake_nan"]
    assert "a_library_that_is_not_installed" in errors["fake_missing"]
    assert "available backends:" in errors["fake_missing"]
    good = frame[frame["backend"] == "fake_exact"].iloc[0]
    assert good["ess_bulk_min"] > 200 and good["rhat_max"] < 1.02 and good["divergences"] == 0
    assert good["ess_per_s"] == pytest.approx(good["ess_bulk_min"] / good["sampling_s"])
    # the tidy table on disk holds every record too
    assert len(pd.read_csv(out / "results.csv")) == len(backends)
    assert manifest["settings"]["chains"] == 2 and manifest["settings"]["cores"] == 1
    assert manifest["settings"]["thread_env"]["OMP_NUM_THREADS"] == "1"
    for key in ("machine", "packages", "git", "created"):
        assert key in manifest
    assert manifest["machine"]["cpu"] and manifest["packages"]["numpy"]


def test_gpu_cells_are_skipped_without_a_gpu_never_run_on_cpu(tmp_path):
    from harness.backends import load_module

    gpu_ok, _ = load_module("numpyro").gpu_available() if load_module("numpyro") else (False, "")
    if gpu_ok:
        pytest.skip("this machine has a GPU")
    plan = RunPlan(models=["normal_mean"], backends=["numpyro", "stan", "fake_exact"],
                   settings=SamplerSettings(chains=1, warmup=10, draws=10, device="gpu"), equivalence=False)
    frame, _ = load_results(run(plan, tmp_path / "gpu", progress=False))
    rows = {r.backend: r for r in frame.itertuples()}
    assert rows["numpyro"].status == "skipped" and "no GPU" in rows["numpyro"].error
    assert rows["stan"].status == "skipped" and "CPU only" in rows["stan"].error
    assert rows["fake_exact"].status == "skipped"


def test_records_survive_a_killed_run(tmp_path):
    """Every cell record is a complete JSON file as soon as the cell ends."""
    plan = RunPlan(models=["normal_mean"], backends=["fake_exact"], settings=TINY, repeats=2, equivalence=False)
    out = run(plan, tmp_path / "run", progress=False)
    cells = sorted((out / "cells").glob("*.json"))
    assert len(cells) == 2
    for path in cells:
        record = json.loads(path.read_text())
        assert record["status"] == "ok" and record["draws_digest"]
    assert not list(out.rglob("*.tmp"))
    # identical seeds give identical draws: the deterministic metric the regression gate relies on
    again = run(plan, tmp_path / "again", progress=False)
    digests = lambda d: sorted(json.loads(p.read_text())["draws_digest"] for p in (d / "cells").glob("*.json"))  # noqa: E731
    assert digests(out) == digests(again)


def test_the_plan_round_trips_through_the_manifest():
    from harness.run.plan import plan_differences, plan_from_settings, plan_settings

    plan = RunPlan(models=["logistic_regression"], backends=["fake_exact"], settings=TINY, repeats=2, root_seed=5,
                   sizes=[{"N": 100}], timeout_s=60, save_draws=True)
    stored = json.loads(json.dumps(plan_settings(plan)))
    assert plan_differences(stored, plan_from_settings(stored)) == []
    changed = plan_from_settings(stored, draws=300, sizes=[{"N": 200}])
    assert plan_differences(stored, changed) == ["sizes: stored [{'N': 100}], given [{'N': 200}]",
                                                 "draws: stored 200, given 300"]


def test_the_equivalence_step_checks_models_side_by_side_and_keeps_their_order(tmp_path):
    """Two models on two workers: equivalence.csv and logs/equivalence.log in the plan's model order, an
    unavailable backend a "skipped" row, the other checked."""
    from harness.run.runner import run_equivalence

    plan = RunPlan(models=["normal_mean", "eight_schools_noncentered"], backends=["fake_missing", "fake_exact"],
                   settings=TINY, timeout_s=300)
    (tmp_path / "logs").mkdir()
    run_equivalence(plan, tmp_path, workers=2)
    table = pd.read_csv(tmp_path / "equivalence.csv")
    assert list(dict.fromkeys(table["model"])) == plan.models
    assert set(table.loc[table["b"] == "fake_missing", "status"]) == {"skipped"}
    log = (tmp_path / "logs" / "equivalence.log").read_text()
    assert log.index("==== normal_mean") < log.index("==== eight_schools_noncentered")


def test_the_equivalence_step_gets_more_time_than_a_short_cell_budget():
    """The standard suite's 60 s a cell is too short to build every family's density of a large model."""
    from harness.run.runner import EQUIVALENCE_BUDGET_S, equivalence_budget

    short = RunPlan(models=["normal_mean"], backends=["fake_exact"], settings=TINY, timeout_s=60)
    long = RunPlan(models=["normal_mean"], backends=["fake_exact"], settings=TINY, timeout_s=3600)
    assert equivalence_budget(short) == EQUIVALENCE_BUDGET_S > 60
    assert equivalence_budget(long) == 3600


def test_the_equivalence_line_tells_a_disagreement_from_a_check_that_did_not_run():
    from harness.run.summary import equivalence_line

    timed_out = "not checked: the equivalence check timed out after 900 s"
    table = pd.DataFrame([
        {"model": "m1", "a": "reference", "b": "x", "status": "pass", "error": None},
        {"model": "m1", "a": "reference", "b": "y", "status": "fail", "error": None},
        {"model": "m2", "a": "reference", "b": "x", "status": "error", "error": timed_out},
        {"model": "m2", "a": "reference", "b": "y", "status": "error", "error": timed_out},
        {"model": "m2", "a": "reference", "b": "z", "status": "skipped", "error": "skipped: unavailable"},
    ])
    line = equivalence_line(table)
    assert line.startswith("log-density equivalence: 1/5 model x backend pairs agree")
    assert "NOT EQUIVALENT: m1: reference vs y;" in line
    assert f"NOT CHECKED: m2 (2 pairs: {timed_out})" in line
    assert "m2: reference vs x" not in line and line.endswith("1 skipped or not implemented")
    assert equivalence_line(table[table["status"] == "pass"]) == "log-density equivalence: 1/1 model x backend pairs agree"
