"""Backend recommendation: who qualifies, who is excluded and why, and the two rankings (synthetic results)."""

import pandas as pd
import pytest

from harness.cli import main
from harness.recommend.core import load_runs, markdown, recommend
from harness.results import ResultsError
from tests.test_compare import make_run, record

BACKENDS = ("fast", "oneoff", "sbcfail", "divergent", "broken", "nosbc", "noteq")


def equivalence(backends, failing=()):
    rows = [{"model": "normal_mean", "a": "reference", "b": b, "max_abs_diff": 0.5 if b in failing else 1e-12,
             "tolerance": 1e-6, "status": "fail" if b in failing else "pass", "error": ""} for b in backends]
    return pd.DataFrame(rows)


def write_sbc(root, verdicts):
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"model": ["normal_mean"] * len(verdicts), "backend": list(verdicts),
                  "verdict": list(verdicts.values()),
                  "failed_quantities": ["mu" if v == "fail" else "" for v in verdicts.values()],
                  "sims": 100}).to_csv(root / "summary.csv", index=False)
    return root


@pytest.fixture
def stored(tmp_path):
    """A run where every backend but 'fast' and 'oneoff' has one reason to be excluded."""
    records = []
    for r in range(3):
        # fast: best ESS/s, slow compile. oneoff: lower ESS/s, tiny compile -> first by time to 1000 ESS
        records.append(record(backend="fast", repeat=r, compile_s=20.0, warmup_s=1.0, sampling_s=1.0, ess_bulk_min=1000.0))
        records.append(record(backend="oneoff", repeat=r, compile_s=0.1, warmup_s=0.5, sampling_s=2.0, ess_bulk_min=500.0))
        records.append(record(backend="sbcfail", repeat=r, sampling_s=0.1, ess_bulk_min=1000.0))
        records.append(record(backend="divergent", repeat=r, divergences=2 if r == 1 else 0))
        broken = record(backend="broken", repeat=r)
        if r == 2:  # as the runner writes a timeout: no size field, the size only in the cell id
            broken.update(status="timeout", error="no result after 60 s; killed", size=None)
        records.append(broken)
        records.append(record(backend="nosbc", repeat=r))
        records.append(record(backend="noteq", repeat=r))
    run = make_run(tmp_path / "results" / "runs" / "r1", records,
                   equivalence=equivalence(BACKENDS, failing=("noteq",)))
    sbc = write_sbc(tmp_path / "results" / "sbc" / "20260101T000000Z",
                    {b: ("fail" if b == "sbcfail" else "pass") for b in BACKENDS if b != "nosbc"})
    return run, sbc


def _recommend(run, sbc_dir=None, **kwargs):
    from harness.report.inputs import load_sbc

    frame, eq = load_runs([run])
    return recommend("normal_mean", "cpu", frame, eq, load_sbc(sbc_dir) if sbc_dir else None, **kwargs)


def test_only_clean_validated_backends_are_ranked(stored):
    run, sbc = stored
    rec = _recommend(run, sbc)
    assert [c.backend for c in rec.by_ess_per_s()] == ["fast", "oneoff"]
    assert [c.backend for c in rec.by_time()] == ["oneoff", "fast"]
    ex = {b: "; ".join(r) for b, r in rec.excluded.items()}
    assert set(ex) == {"sbcfail", "divergent", "broken", "nosbc", "noteq"}
    assert ex["sbcfail"] == "SBC fail (mu)"
    assert ex["divergent"] == "divergences: 2 in 1/3 runs"
    assert ex["broken"] == "timeout 1/3 runs: no result after 60 s; killed"
    assert ex["nosbc"] == "no SBC result"
    assert ex["noteq"].startswith("equivalence fail: fail against reference")
    assert rec.size == "K=1000"


def test_time_to_1000_effective_draws_includes_compile(stored):
    run, sbc = stored
    by_name = {c.backend: c for c in _recommend(run, sbc).ranked}
    # compile + warm-up + sampling * 1000 / ESS
    assert by_name["fast"].time_to_target_s == pytest.approx(20.0 + 1.0 + 1.0 * 1000 / 1000)
    assert by_name["oneoff"].time_to_target_s == pytest.approx(0.1 + 0.5 + 2.0 * 1000 / 500)
    assert by_name["fast"].ess_per_s == pytest.approx(1000.0)
    assert _recommend(run, sbc, target_ess=2000).ranked[0].time_to_target_s == pytest.approx(20.0 + 1.0 + 1.0 * 2000 / 1000)


def test_missing_sbc_can_be_demoted_to_a_warning(stored):
    run, sbc = stored
    rec = _recommend(run, sbc, allow_missing_sbc=True)
    nosbc = [c for c in rec.ranked if c.backend == "nosbc"]
    assert nosbc and nosbc[0].warnings == ["no SBC result"]
    everyone = _recommend(run)  # no SBC at all: nobody qualifies
    assert not everyone.ranked and all("no SBC result" in r for r in everyone.excluded.values())
    assert "**No backend qualifies**" in markdown(everyone)


def test_markdown_and_cli(stored, monkeypatch, capsys):
    run, sbc = stored
    monkeypatch.chdir(run.parent.parent.parent)  # results/ of the fixture is the default store
    assert main(["recommend", "--model", "normal_mean"]) == 0
    out = capsys.readouterr().out
    assert "## Backend recommendation: normal_mean (cpu, size K=1000)" in out
    assert "**Recommended: fast** for long or repeated runs (highest ESS/s); **oneoff** for one-off runs" in out
    assert "| 1 | fast | 1,000 | 3 |" in out
    assert "| sbcfail | SBC fail (mu) |" in out
    assert "results/sbc/20260101T000000Z" in out


def test_bad_input_is_a_clear_error(stored, monkeypatch, capsys):
    run, sbc = stored
    monkeypatch.chdir(run.parent.parent.parent)
    assert main(["recommend", "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "normal_mean" in err and "eight_schools_noncentered" in err
    assert main(["recommend", "--model", "logistic_regression"]) == 2
    assert "no stored results for model 'logistic_regression'; models with results: normal_mean" in capsys.readouterr().err
    assert main(["recommend", "--model", "normal_mean", "--device", "gpu"]) == 2
    assert "on gpu" in capsys.readouterr().err
    assert main(["recommend", "--model", "normal_mean", "--size", "K=5"]) == 2
    assert main(["recommend", "--model", "normal_mean", "--results", str(run.parent / "missing")]) == 2
    with pytest.raises(SystemExit):
        main(["recommend", "--model", "normal_mean", "--device", "tpu"])


def test_no_stored_results_at_all(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["recommend", "--model", "normal_mean"]) == 2
    assert "no stored results" in capsys.readouterr().err
    with pytest.raises(ResultsError):
        recommend("normal_mean", "cpu", load_runs([])[0], {}, None)
