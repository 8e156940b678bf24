"""Backend recommendation: who qualifies, who is excluded and why, and the two rankings (synthetic results)."""

import pandas as pd
import pytest

from harness.cli import main
from harness.recommend.core import load_runs, recommend
from harness.recommend.render import markdown
from harness.results import ResultsError
from tests.helpers import has_row
from tests.test_compare import make_run, record

BACKENDS = ("fast", "oneoff", "sbcfail", "divergent", "diverger", "broken", "nosbc", "noteq")


def equivalence(backends, failing=()):
    rows = [{"model": "normal_mean", "a": "reference", "b": b, "max_abs_diff": 0.5 if b in failing else 1e-12,
             "tolerance": 1e-6, "status": "fail" if b in failing else "pass", "error": ""} for b in backends]
    return pd.DataFrame(rows)


def write_sbc(root, verdicts, sims=100, **columns):
    """A summary.csv as ``harness sbc`` writes it (the columns recommend reads)."""
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"model": ["normal_mean"] * len(verdicts), "backend": list(verdicts),
                  "verdict": list(verdicts.values()),
                  "screen_verdict": ["flag" if v in ("fail", "flagged (not confirmed)") else "pass"
                                     for v in verdicts.values()],
                  "failed_quantities": ["mu" if v == "fail" else "" for v in verdicts.values()],
                  "sims": sims, "ok": sims, "power_shift": 0.39, **columns}).to_csv(root / "summary.csv", index=False)
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
        records.append(record(backend="divergent", repeat=r, compile_s=30.0, sampling_s=1.0,
                              divergences=2 if r == 1 else 0))  # normal for the model
        records.append(record(backend="diverger", repeat=r, divergences=30))  # 30 of 600 draws: 5%
        broken = record(backend="broken", repeat=r)
        if r == 2:  # as the runner writes a timeout: no size field, the size only in the cell id
            broken.update(status="timeout", error="no result after 60 s; killed", size=None)
        records.append(broken)
        records.append(record(backend="nosbc", repeat=r, compile_s=30.0, sampling_s=1.0))
        records.append(record(backend="noteq", repeat=r))
    for rec in records:
        rec.setdefault("accuracy", "PASS")
        d = int(rec["divergences"])  # the 2 chains' counts, as the runner records them
        rec.setdefault("divergences_by_chain", f"{d - d // 2};{d // 2}")
    run = make_run(tmp_path / "results" / "runs" / "r1", records,
                   equivalence=equivalence(BACKENDS, failing=("noteq",)))
    sbc = write_sbc(tmp_path / "results" / "sbc" / "20260101T000000Z",
                    {b: ("fail" if b == "sbcfail" else "pass") for b in BACKENDS if b != "nosbc"})
    return run, sbc


def _recommend(run, sbc_dir=None, **kwargs):
    from harness.loaders import load_sbc

    frame, eq = load_runs([run])
    return recommend("normal_mean", "cpu", frame, eq, load_sbc(sbc_dir) if sbc_dir else None, **kwargs)


def names(ranked):
    return [c.backend for _, c in ranked]


def test_excluded_ranked_and_provisional(stored):
    run, sbc = stored
    rec = _recommend(run, sbc)
    assert names(rec.by_ess_per_s())[0] == "fast"
    assert set(names(rec.by_ess_per_s())) == {"fast", "oneoff", "divergent", "nosbc"}
    assert names(rec.by_time())[0] == "oneoff"
    ex = {b: "; ".join(r) for b, r in rec.excluded.items()}
    assert set(ex) == {"sbcfail", "diverger", "broken", "noteq"}
    assert ex["sbcfail"] == "SBC fail (mu)"
    assert ex["diverger"].startswith("divergences: 5.00% (") and "clearly more than" in ex["diverger"]
    assert ex["broken"] == "timeout 1/3 runs: no result after 60 s; killed"
    assert ex["noteq"].startswith("equivalence fail: fail against reference")
    # 2 divergences in 1,800 draws, where the others have none: normal for the model, not an exclusion
    divergent = next(c for c in rec.ranked if c.backend == "divergent")
    assert divergent.validated and divergent.divergence.startswith("0.11%")
    # no SBC: ranked, provisional, with the command that completes it
    nosbc = next(c for c in rec.ranked if c.backend == "nosbc")
    assert nosbc.missing == ["no SBC"] and not nosbc.validated
    assert nosbc.commands == ["python -m harness sbc --models normal_mean --backends nosbc"]
    assert rec.size == "K=1000"
    assert [c.backend for c in rec.recommended("ess")] == ["fast"]


def test_time_to_1000_effective_draws_includes_compile(stored):
    run, sbc = stored
    by_name = {c.backend: c for c in _recommend(run, sbc).ranked}
    # compile + warm-up + sampling * 1000 / ESS
    assert by_name["fast"].time_to_target_s == pytest.approx(20.0 + 1.0 + 1.0 * 1000 / 1000)
    assert by_name["oneoff"].time_to_target_s == pytest.approx(0.1 + 0.5 + 2.0 * 1000 / 500)
    assert by_name["fast"].ess_per_s == pytest.approx(1000.0)
    rec = _recommend(run, sbc, target_ess=2000)
    fast = next(c for c in rec.ranked if c.backend == "fast")
    assert fast.time_to_target_s == pytest.approx(20.0 + 1.0 + 1.0 * 2000 / 1000)


def test_without_any_sbc_the_ranking_is_provisional(stored):
    """A first-time user who ran only `run`: ranked on the evidence there is, nothing recommended yet,
    the commands that complete it printed."""
    run, sbc = stored
    everyone = _recommend(run)
    assert everyone.ranked and not everyone.recommended() and all(not c.validated for c in everyone.ranked)
    text = markdown(everyone)
    assert "**Not recommended yet**" in text and "**Provisional**" in text and "not validated: no SBC" in text
    assert "`python -m harness sbc --models normal_mean --backends fast`" in text
    demoted = _recommend(run, sbc, allow_missing_sbc=True)
    nosbc = next(c for c in demoted.ranked if c.backend == "nosbc")
    assert nosbc.validated and "no SBC result (--allow-missing-sbc)" in nosbc.warnings


def chains(counts: dict[str, tuple[int, int]], n: int = 12) -> dict[str, list[float]]:
    """Each backend's divergences spread evenly over ``n`` chains (3 runs x 4 chains): their rates."""
    return {b: [(e // n + (i < e % n)) / (draws / n) for i in range(n)] for b, (e, draws) in counts.items()}


def test_every_backend_diverging_is_the_models_property():
    from harness.recommend.exclude import divergences

    counts = {"a": (60, 4000), "b": (70, 4000), "c": (55, 4000)}
    excluded, note = divergences(counts, chains(counts))
    assert not excluded and note.startswith("every backend diverges (1.4%-1.8% of draws)")
    counts = {"a": (60, 4000), "b": (400, 4000), "c": (55, 4000)}
    excluded, note = divergences(counts, chains(counts))
    assert set(excluded) == {"b"} and "clearly more than c" in excluded["b"]
    excluded, note = divergences({"a": (0, 4000), "b": (60, 4000)})  # 1.5%, its interval above 1%
    assert set(excluded) == {"b"} and note is None


def test_divergences_are_compared_chain_by_chain_not_draw_by_draw():
    """Divergences cluster within chains: one run's excess is no evidence, the same excess in every chain
    of three runs is; a backend without chain counts counts each run as one unit."""
    from harness.recommend.exclude import divergences

    counts = {"a": (6, 4000), "b": (24, 4000)}  # 0.15% and 0.6%, one run of 4 chains each
    one_run = {"a": [0.0, 0.0, 0.0, 0.006], "b": [0.0, 0.024, 0.0, 0.0]}  # all of b's in one chain
    assert divergences(counts, one_run) == ({}, None)  # Fisher on draws: p = 0.0007; chains: p = 0.5
    counts = {"a": (6, 12000), "b": (72, 12000)}
    excluded, _ = divergences(counts, chains(counts))
    assert set(excluded) == {"b"} and "chains 12 vs 12" in excluded["b"]
    assert divergences(counts) == ({}, None)  # no chain counts: one unit each, never significant


def test_markdown_and_cli(stored, monkeypatch, capsys):
    run, sbc = stored
    monkeypatch.chdir(run.parent.parent.parent)  # results/ of the fixture is the default store
    assert main(["recommend", "--model", "normal_mean"]) == 0
    out = capsys.readouterr().out
    assert "## Backend recommendation: normal_mean (cpu, size K=1000)" in out
    assert "**Recommended: fast** for long or repeated runs (highest ESS/s); **oneoff** for one-off runs" in out
    assert has_row(out, "1", "fast", "1,000", "1,000-1,000", "3")
    assert has_row(out, "sbcfail", "SBC fail (mu)")
    assert "results/sbc/20260101T000000Z" in out
    ranks = [int(line.split("|")[1]) for line in out.split("### By ESS per second")[1].split("###")[0].splitlines()
             if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert ranks == sorted(ranks)  # sorted the way they are ranked


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


# ---------------------------------------------------------------- verdicts with uncertainty (issue #8)


def test_weak_or_unconfirmed_sbc_and_failed_accuracy_do_not_qualify(tmp_path):
    records = []
    for r in range(3):
        records.append(record(backend="good", repeat=r, accuracy="PASS"))
        records.append(record(backend="weak", repeat=r, accuracy="PASS"))
        records.append(record(backend="flagged", repeat=r, accuracy="PASS"))
        records.append(record(backend="unconfirmed", repeat=r, accuracy="PASS"))
        records.append(record(backend="inaccurate", repeat=r, accuracy="FAIL" if r == 0 else "PASS",
                              accuracy_worst="mu", accuracy_z=9.0))
        records.append(record(backend="review", repeat=r, accuracy="REVIEW", accuracy_worst="mu", accuracy_z=4.0))
    names = ("good", "weak", "flagged", "unconfirmed", "inaccurate", "review")
    run = make_run(tmp_path / "runs" / "r", records, equivalence=equivalence(names))
    sbc = write_sbc(tmp_path / "sbc" / "a", {"good": "pass", "weak": "pass (weak)", "flagged": "flagged (not confirmed)",
                                            "unconfirmed": "pass (flag not confirmed)", "inaccurate": "pass",
                                            "review": "pass"})
    rec = _recommend(run, sbc)
    validated = {c.backend for c in rec.ranked if c.validated}
    assert validated == {"good", "unconfirmed", "review"}
    weak = next(c for c in rec.ranked if c.backend == "weak")
    assert "not yet validated" in weak.missing[0]
    flagged = next(c for c in rec.ranked if c.backend == "flagged")
    assert "--confirm" in flagged.missing[0]
    assert rec.excluded["inaccurate"][0].startswith("accuracy FAIL against the reference posterior (1/3 runs: mu z = 9.00")
    review = next(c for c in rec.ranked if c.backend == "review")
    assert review.accuracy == "REVIEW" and review.warnings[0].startswith("accuracy REVIEW")


def test_old_sbc_summaries_get_power_and_unconfirmed_flags(tmp_path):
    from harness.recommend.exclude import sbc_status

    # before issue #8: verdict pass/fail only; alpha 0.05 and 3 quantities (band_prob 1 - 0.05/3)
    legacy = {"verdict": "pass", "sims": 20, "ok": 20, "alpha": 0.05, "band_prob": 1 - 0.05 / 3, "kept": 39}
    verdict, why = sbc_status(legacy)
    assert verdict == "pass (weak)" and "0.86 posterior sd" in why
    assert sbc_status({**legacy, "sims": 100, "ok": 100}) == ("pass", "")
    assert sbc_status({**legacy, "verdict": "fail"})[0] == "flagged (not confirmed)"


def test_most_replicates_win_not_the_newest_directory(tmp_path):
    from harness.loaders import load_sbc
    from harness.recommend.select import select_sbc

    big = write_sbc(tmp_path / "sbc" / "20260101T000000Z", {"x": "pass"}, sims=200)
    smoke = write_sbc(tmp_path / "sbc" / "20270101T000000Z", {"x": "flagged (not confirmed)"}, sims=4)
    table = pd.concat([load_sbc(big), load_sbc(smoke)], ignore_index=True)
    chosen = select_sbc(table)
    assert len(chosen) == 1 and chosen.iloc[0]["sims"] == 200 and chosen.iloc[0]["verdict"] == "pass"
    # a confirmation's replicates count too
    confirmed = write_sbc(tmp_path / "sbc" / "c", {"x": "pass (flag not confirmed)"}, sims=150, confirm_ok=100)
    table = pd.concat([load_sbc(big), load_sbc(confirmed)], ignore_index=True)
    assert select_sbc(table).iloc[0]["verdict"] == "pass (flag not confirmed)"


def test_intervals_ties_and_too_few_repeats(tmp_path):
    from harness.recommend.score import interval_ranks, median_interval

    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0, 0.75)
    lo, hi, cov = median_interval(list(range(20)))
    assert cov >= 0.95 and 0 < lo < hi < 19
    assert interval_ranks([(10, 12), (11, 13), (1, 2)], higher_is_better=True) == [1, 1, 3]

    records = []
    for r, (a, b) in enumerate([(1.0, 1.1), (1.5, 1.2), (1.2, 1.6)]):  # overlapping sampling times
        records.append(record(backend="a", repeat=r, sampling_s=a, compile_s=1.0, accuracy="PASS"))
        records.append(record(backend="b", repeat=r, sampling_s=b, compile_s=1.0, accuracy="PASS"))
    run = make_run(tmp_path / "runs" / "r", records, equivalence=equivalence(("a", "b")))
    sbc = write_sbc(tmp_path / "sbc" / "s", {"a": "pass", "b": "pass"})
    rec = _recommend(run, sbc)
    assert {c.backend: r for r, c in rec.by_ess_per_s()} == {"a": 1, "b": 1}
    text = markdown(rec)
    assert "**Recommended: tied: " in text and "overlap" in text

    few = make_run(tmp_path / "runs" / "few", [record(backend="a", repeat=r, accuracy="PASS") for r in range(2)],
                   equivalence=equivalence(("a",)))
    rec = _recommend(few, sbc)
    assert not rec.recommended() and rec.ranked[0].missing == ["too few repeats (2 < 3)"]
    assert "`python -m harness run --models normal_mean --backends a --repeats 3`" in markdown(rec)


def test_a_handful_of_divergences_against_none_excludes_nothing():
    from harness.recommend.exclude import divergences

    # 6 in 12,000 against 0 in 12,000, one in each of 6 of 12 chains: significant, but below the 0.1% floor
    counts = {"a": (0, 12000), "b": (6, 12000)}
    out, note = divergences(counts, chains(counts))
    assert out == {} and note is None
    # 60 in 12,000 (0.5%) against none: excluded by the relative rule
    counts = {"a": (0, 12000), "b": (60, 12000)}
    out, _ = divergences(counts, chains(counts))
    assert set(out) == {"b"} and "clearly more than a's" in out["b"]
