"""The regression gate: timing statistics on synthetic samples, deterministic and correctness metrics,
provenance warnings, JUnit XML and the CLI's exit codes, on synthetic run directories and on the
committed baseline (no sampling: seconds)."""

import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.compare.junit import write_junit
from harness.compare.quick import QUICK_SUITE, run_argv
from harness.compare.render import markdown
from harness.compare.rows import (
    ADVISORY,
    CHANGED,
    EXPECTED,
    IMPROVED,
    NOT_COMPARED,
    OK,
    REGRESSION,
    compare_runs,
)
from harness.compare.stats import (
    RULE_ADVISORY,
    RULE_PERMUTATION,
    decisive,
    min_attainable_p,
    min_detectable_ratio,
    rank_test_p,
    repeats_needed,
    timing_test,
)
from harness.results import RunStore, cell_id
from tests.helpers import has_row

BASELINE = Path(__file__).resolve().parent.parent / "results" / "baselines" / "quick"

# ---------------------------------------------------------------- synthetic timing samples


def noisy(scale, n, seed, sd=0.03):
    """``n`` timings around ``scale`` with realistic multiplicative noise (lognormal, sd 3 %)."""
    return scale * np.random.default_rng(seed).lognormal(0.0, sd, n)


@pytest.mark.parametrize("seed", range(20))
def test_a_5_percent_slowdown_is_not_flagged_a_30_percent_one_is(seed):
    base = noisy(1.0, 6, seed)
    five, thirty = timing_test(base, noisy(1.05, 6, seed + 1000)), timing_test(base, noisy(1.30, 6, seed + 1000))
    flag5, detail5, flag30, detail30 = five.regression, five.detail, thirty.regression, thirty.detail
    assert not flag5, detail5
    assert flag30, detail30
    assert "exact rank test" in detail30 and "advisory" not in detail30


def test_significant_but_small_change_is_not_a_regression():
    # p is tiny (complete separation) but the ratio of medians is within the 1.1 factor
    result = timing_test(noisy(1.0, 8, 1, sd=0.001), noisy(1.05, 8, 2, sd=0.001))
    assert result.rule == RULE_PERMUTATION and result.p_value < 0.002 and not result.regression


def test_large_but_noisy_change_is_not_a_regression():
    base = np.array([1.0, 1.5, 0.7, 2.0, 1.1, 0.9])
    new = base[::-1] * 1.3  # 30 % slower in the median, ranks overlap heavily
    result = timing_test(base, new)
    assert result.ratio > 1.1 and result.p_value > 0.002 and not result.regression


def test_higher_is_better_metrics_regress_downwards():
    base = noisy(1000.0, 6, 3)
    worse = timing_test(base, base / 1.3 * noisy(1.0, 6, 4), higher_is_better=True)
    better = timing_test(base, base * 1.3 * noisy(1.0, 6, 4), higher_is_better=True)
    assert worse.regression and not worse.improvement and worse.ratio > 1.2
    assert better.improvement and not better.regression and better.ratio < 1


def test_fewer_than_six_repeats_are_advisory_and_never_fail():
    # 2 vs 2 and 3 vs 3 with complete separation: p = 1/6 and 1/20, which can never reach alpha
    for n in (2, 3, 5):
        result = timing_test(np.linspace(1.0, 1.02, n), np.linspace(1.30, 1.33, n))
        assert result.rule == RULE_ADVISORY and result.advisory and not result.regression
        assert "advisory" in result.detail and math.isinf(result.detectable)
    assert timing_test([1.0] * 5, [2.0] * 5).p_value == pytest.approx(1 / 252)


def test_exact_test_handles_ties():
    """6 vs 6, complete separation except one tie at the boundary: the exact conditional p is 2/924."""
    base = np.array([1.0, 1.01, 1.02, 1.03, 1.04, 1.05])
    new = base * 1.4
    new[0] = base[-1]  # one tie
    assert rank_test_p(base, new) == pytest.approx(2 / 924)
    assert rank_test_p(base, base * 1.4) == pytest.approx(1 / 924)
    result = timing_test(base, new)
    assert result.rule == RULE_PERMUTATION and result.regression, result.detail
    # whole milliseconds (Stan): many ties, still exact; same values on both sides give p = 1
    ms = np.array([0.021, 0.022, 0.022, 0.023, 0.021, 0.022])
    assert rank_test_p(ms, ms) == 1.0 or rank_test_p(ms, ms) > 0.4
    assert not timing_test(ms, ms).regression


def test_rank_test_matches_scipy_permutation_test():
    from scipy.stats import permutation_test, rankdata

    rng = np.random.default_rng(3)
    base, new = np.round(rng.lognormal(0, 0.2, 6), 2), np.round(rng.lognormal(0.2, 0.2, 6), 2)

    def rank_sum(x, y, axis=-1):
        ranks = rankdata(np.concatenate([x, y], axis=axis), axis=axis)
        return ranks[..., : x.shape[axis]].sum(axis=axis)

    ref = permutation_test((new, base), rank_sum, permutation_type="independent", alternative="greater",
                           vectorized=True, n_resamples=10_000)
    assert rank_test_p(base, new) == pytest.approx(ref.pvalue)


def test_decision_rule_sizing():
    assert repeats_needed() == 6 and decisive(6, 6) and not decisive(5, 5)
    assert min_attainable_p(6, 6) == pytest.approx(1 / 924)
    # false-alarm rate per metric at 6 vs 6 with continuous values: the two most extreme splits
    rng = np.random.default_rng(0)
    flags = [timing_test(rng.lognormal(0, 0.1, 6), rng.lognormal(0, 0.1, 6), factor=1.0).regression
             for _ in range(3000)]
    assert np.mean(flags) < 0.006  # 2/924 = 0.0022 expected


def test_minimum_detectable_ratio_follows_the_spread():
    rng = np.random.default_rng(1)
    tight, loose = rng.lognormal(0, 0.03, (2, 6)), rng.lognormal(0, 0.3, (2, 6))
    assert min_detectable_ratio(*tight) == pytest.approx(1.1)  # never below the factor
    assert 1.5 < min_detectable_ratio(*loose) < 5
    assert math.isinf(min_detectable_ratio(tight[0][:3], tight[1][:3]))


def test_degenerate_samples():
    assert not timing_test([1.0] * 6, [1.0] * 6).regression
    assert timing_test([], [1.0]).detail.startswith("not compared")
    assert not timing_test([np.nan, 1.0], [1.05]).regression
    with pytest.raises(ValueError):
        timing_test([1.0], [1.0], factor=0.5)


# ---------------------------------------------------------------- synthetic run directories

MACHINE = {"hostname": "ci-1", "platform": "Linux-x86_64", "python": "3.11.7", "cpu": "Test CPU @ 2GHz",
           "cpu_count": 2, "gpu": None}
PACKAGES = {"numpy": "2.4.6", "numpyro": "0.22.0", "pystan": "3.10.0"}
SETTINGS = {"chains": 2, "warmup": 300, "draws": 300, "target_accept": 0.8, "max_treedepth": 10, "device": "cpu",
            "cores": 1, "repeats": 6, "root_seed": 0, "thread_env": {"OMP_NUM_THREADS": "1"}}


def record(model="normal_mean", backend="numpyro", repeat=0, size="K=1000", **overrides):
    seed = 1000 + repeat
    rec = {
        "cell_id": cell_id(model, size, backend, repeat, "cpu"), "model": model, "size": size, "backend": backend,
        "repeat": repeat, "status": "ok", "device": "cpu", "seed": seed, "chains": 2, "warmup": 300, "draws": 300,
        "target_accept": 0.8, "max_treedepth": 10, "cores": 1, "compile_s": 2.0, "cache_hit": True,
        "warmup_s": 0.5, "sampling_s": 0.5, "total_s": 6.0, "ess_bulk_min": 400.0, "ess_tail_min": 380.0,
        "rhat_max": 1.002, "divergences": 0, "n_grad": 2000 + repeat, "n_grad_warmup": 2500,
        "draws_digest": f"digest{backend}{repeat}", "data_size": 1000, "error": "",
        "versions": {backend: "1.0"},
    }
    rec.update(overrides)
    rec["ess_per_s"] = rec["ess_bulk_min"] / rec["sampling_s"] if rec["status"] == "ok" else None
    return rec


def make_run(root, records, machine=None, packages=None, settings=None, equivalence=None, manifest=True):
    """A run directory as the runner writes it: manifest.json, cells/*.json, results.csv (+ equivalence.csv)."""
    store = RunStore(root)
    if manifest:
        store.write_manifest({"created": "2026-11-21T00:00:00+00:00", "command": ["test"],
                              "machine": {**MACHINE, **(machine or {})}, "packages": {**PACKAGES, **(packages or {})},
                              "git": {"commit": "abc", "dirty": False}, "settings": {**SETTINGS, **(settings or {})}})
    for rec in records:
        store.add(rec)
    if equivalence is not None:
        pd.DataFrame(equivalence).to_csv(root / "equivalence.csv", index=False)
    return root


def timed_run(sampling_scale=1.0, repeats=6, seed=0, backends=("numpyro", "stan")):
    """Records of ``backends`` x ``repeats`` whose sampling time is ``0.5 s * sampling_scale`` with 3 % noise."""
    records = []
    for b_i, backend in enumerate(backends):
        samples = noisy(0.5 * sampling_scale, repeats, seed + 17 * b_i)
        records += [record(backend=backend, repeat=r, sampling_s=float(samples[r])) for r in range(repeats)]
    return records


def rows_of(cmp, metric, backend="numpyro"):
    return [r for r in cmp.rows if r.metric == metric and r.backend.startswith(backend)]


def test_identical_runs_pass_and_everything_is_compared(tmp_path):
    base = make_run(tmp_path / "base", timed_run(seed=0))
    new = make_run(tmp_path / "new", timed_run(seed=100))
    cmp = compare_runs(base, new)
    assert not cmp.failed and not cmp.regressions and not cmp.warnings
    metrics = {r.metric for r in cmp.rows}
    assert {"status", "divergences", "sampling_s", "sampling_per_grad", "warmup_s", "compile_s", "total_s", "ess_per_s",
            "draws_digest", "n_grad", "n_grad_warmup"} <= metrics
    assert all(r.verdict == OK for r in rows_of(cmp, "draws_digest"))
    text = markdown(cmp)
    assert has_row(text, "backend", "kind", "metric", "baseline", "new", "change", "detectable", "verdict", "detail")
    assert "### normal_mean" in text and "**Result: no regression**" in text


def test_a_30_percent_sampling_slowdown_fails_the_gate(tmp_path):
    base = make_run(tmp_path / "base", timed_run(seed=0))
    new = make_run(tmp_path / "new", timed_run(sampling_scale=1.3, seed=100))
    cmp = compare_runs(base, new)
    flagged = {(r.backend, r.metric) for r in cmp.regressions}
    assert flagged == {(b, m) for b in ("numpyro", "stan") for m in ("sampling_s", "sampling_per_grad", "ess_per_s")}
    assert all(r.kind == "timing" for r in cmp.regressions)
    assert "**Result: 6 regression(s)**" in markdown(cmp)
    assert main(["compare", str(base), str(new)]) == 1
    # 5 % slower: same noise, no regression
    assert main(["compare", str(base), str(make_run(tmp_path / "new5", timed_run(1.05, seed=100)))]) == 0


def test_few_repeats_are_advisory_and_never_fail(tmp_path):
    base = make_run(tmp_path / "base", timed_run(repeats=3, seed=0))
    new = make_run(tmp_path / "new", timed_run(sampling_scale=1.5, repeats=3, seed=100))
    cmp = compare_runs(base, new)
    assert any("advisory, never failing" in n for n in cmp.notes)
    (row,) = rows_of(cmp, "sampling_s")
    assert row.verdict == ADVISORY and "advisory: n=3/3" in row.detail and row.detectable.startswith("never")
    assert not cmp.failed and "advisory slowdown(s)" in markdown(cmp)
    assert main(["compare", str(base), str(new)]) == 0


def test_timings_below_the_clock_floor_are_not_regressions(tmp_path):
    base = make_run(tmp_path / "base", timed_run(sampling_scale=0.008 / 0.5, backends=("stan",)))
    new = make_run(tmp_path / "new", timed_run(sampling_scale=0.011 / 0.5, seed=9, backends=("stan",)))
    (row,) = rows_of(compare_runs(base, new), "sampling_s", "stan")
    assert row.verdict == OK and "floor" in row.detail
    (row,) = rows_of(compare_runs(base, new, min_seconds=0.0), "sampling_s", "stan")
    assert row.verdict == REGRESSION


def test_compile_times_are_compared_within_one_cache_state(tmp_path):
    base = make_run(tmp_path / "base", [record(repeat=r, cache_hit=True) for r in range(6)])
    new = make_run(tmp_path / "new", [record(repeat=r, cache_hit=False, compile_s=30.0) for r in range(6)])
    (row,) = rows_of(compare_runs(base, new), "compile_s")
    assert row.verdict == NOT_COMPARED and "not comparable" in row.detail
    mixed = make_run(tmp_path / "mixed", [record(repeat=r, cache_hit=r > 0, compile_s=30.0 if r == 0 else 2.0)
                                          for r in range(6)])
    (row,) = rows_of(compare_runs(base, mixed), "compile_s")
    assert row.verdict == OK and "hits only" in row.detail


def test_deterministic_changes_are_reported_exactly(tmp_path):
    base = make_run(tmp_path / "base", [record(repeat=r) for r in range(6)])
    changed = [record(repeat=r) for r in range(6)]
    changed[2].update(draws_digest="other", n_grad=2102)
    new = make_run(tmp_path / "new", changed)
    cmp = compare_runs(base, new)
    (digest,) = rows_of(cmp, "draws_digest")
    (grads,) = rows_of(cmp, "n_grad")
    assert digest.verdict == CHANGED and digest.detail.startswith("draws differ in repeat 2 (") and digest.change == "1/6 differ"
    assert grads.verdict == CHANGED and "r2: 2,002 -> 2,102" in grads.detail and grads.change.startswith("+100 ")
    assert "same library versions" in grads.detail
    assert not cmp.failed  # reported, not failed by default
    strict = compare_runs(base, new, fail_on_deterministic=True)
    assert {r.metric for r in strict.regressions} == {"draws_digest", "n_grad"}
    assert main(["compare", str(base), str(new)]) == 0
    assert main(["compare", str(base), str(new), "--fail-on-deterministic"]) == 1
    # another library version: the change is expected and never fails
    upgraded = [dict(r, versions={"numpyro": "2.0"}) for r in changed]
    cmp = compare_runs(base, make_run(tmp_path / "upgraded", upgraded), fail_on_deterministic=True)
    (digest,) = rows_of(cmp, "draws_digest")
    assert digest.verdict == EXPECTED and "numpyro 1.0 -> 2.0" in digest.detail and not cmp.failed


def test_deterministic_metrics_need_the_same_seed(tmp_path):
    base = make_run(tmp_path / "base", [record(repeat=r) for r in range(2)])
    new = make_run(tmp_path / "new", [record(repeat=r, seed=5, draws_digest="x") for r in range(2)])
    rows = [r for r in compare_runs(base, new).rows if r.kind == "deterministic"]
    assert [r.verdict for r in rows] == [NOT_COMPARED] and "seed" in rows[0].detail


def test_correctness_regressions(tmp_path):
    eq_pass = {"model": ["normal_mean"] * 3, "a": ["reference", "reference", "numpyro"],
               "b": ["numpyro", "stan", "stan"], "max_abs_diff": [1e-12] * 3, "tolerance": [1e-6] * 3,
               "status": ["pass"] * 3, "error": [""] * 3}
    eq_fail = {**eq_pass, "status": ["pass", "fail", "fail"], "max_abs_diff": [1e-12, 0.5, 0.5]}
    base_records = [record(backend=b, repeat=r) for b in ("numpyro", "stan") for r in range(6)]
    new_records = [record(backend=b, repeat=r) for b in ("numpyro", "stan") for r in range(6)]
    new_records[1] = record(backend="numpyro", repeat=1, status="failed", error="RuntimeError: boom\ntraceback")
    new_records[7] = record(backend="stan", repeat=1, divergences=3)
    base = make_run(tmp_path / "base", base_records, equivalence=eq_pass)
    new = make_run(tmp_path / "new", new_records, equivalence=eq_fail)
    sbc_base = pd.DataFrame({"model": ["normal_mean"] * 2, "backend": ["numpyro", "stan"], "verdict": ["pass", "pass"]})
    sbc_new = pd.DataFrame({"model": ["normal_mean"] * 2, "backend": ["numpyro", "stan"],
                            "verdict": ["fail", "inconclusive"], "failed_quantities": ["mu", ""]})
    cmp = compare_runs(base, new, base_sbc=sbc_base, new_sbc=sbc_new)
    regs = {(r.backend, r.metric): r for r in cmp.regressions}
    assert regs[("numpyro", "status")].detail == "failed: RuntimeError: boom"
    assert regs[("stan", "divergences")].new == "3"
    assert ("reference vs stan", "equivalence") in regs and ("numpyro vs stan", "equivalence") in regs
    assert ("numpyro", "SBC verdict") in regs
    stan_sbc = [r for r in cmp.rows if r.metric == "SBC verdict" and r.backend == "stan"]
    assert stan_sbc[0].verdict == CHANGED  # pass -> inconclusive: reported, not a failure
    assert cmp.failed
    # and the other way round they are improvements, not regressions
    back = compare_runs(new, base, base_sbc=sbc_new, new_sbc=sbc_base)
    assert not back.regressions
    assert any(r.verdict == IMPROVED and r.metric == "status" for r in back.rows)


def test_sbc_summaries_are_found_in_the_run_directories(tmp_path):
    base = make_run(tmp_path / "base", [record(repeat=0)])
    new = make_run(tmp_path / "new", [record(repeat=0)])
    for root, verdict in ((base, "pass"), (new, "fail")):
        (root / "sbc").mkdir()
        pd.DataFrame({"model": ["normal_mean"], "backend": ["numpyro"], "verdict": [verdict]}).to_csv(
            root / "sbc" / "summary.csv", index=False)
    assert main(["compare", str(base), str(new)]) == 1
    (tmp_path / "nosbc").mkdir()
    assert main(["compare", str(base), str(new), "--sbc-new", str(tmp_path / "nosbc")]) == 2


def test_environment_differences_are_warnings_or_strict_errors(tmp_path, capsys):
    records = [record(repeat=r) for r in range(2)]
    base = make_run(tmp_path / "base", records)
    new = make_run(tmp_path / "new", records, machine={"cpu": "Other CPU", "hostname": "ci-2"},
                   packages={"numpyro": "0.23.0"}, settings={"thread_env": {"OMP_NUM_THREADS": "4"}})
    cmp = compare_runs(base, new)
    assert "machine cpu: Test CPU @ 2GHz -> Other CPU" in cmp.warnings
    assert "package numpyro: 0.22.0 -> 0.23.0" in cmp.warnings
    assert "thread env OMP_NUM_THREADS: '1' -> '4'" in cmp.warnings
    assert not any("hostname" in w for w in cmp.warnings)
    assert main(["compare", str(base), str(new)]) == 0
    assert "### Warnings" in capsys.readouterr().out
    assert main(["compare", str(base), str(new), "--strict"]) == 1
    assert "### Errors (--strict)" in capsys.readouterr().out
    assert main(["compare", str(base), str(base), "--strict"]) == 0


def test_missing_cells_and_bad_input(tmp_path, capsys):
    base = make_run(tmp_path / "base", [record(backend=b) for b in ("numpyro", "stan")])
    new = make_run(tmp_path / "new", [record(backend="numpyro")])
    cmp = compare_runs(base, new)
    assert any("in the baseline but not in the new run" in w for w in cmp.warnings) and not cmp.regressions
    assert main(["compare", str(base), str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["compare", str(base), str(new), "--factor", "0.9"]) == 2
    (tmp_path / "broken" / "cells").mkdir(parents=True)
    (tmp_path / "broken" / "cells" / "x.json").write_text("{not json")
    assert main(["compare", str(base), str(tmp_path / "broken")]) == 2


def test_markdown_out_file(tmp_path):
    base = make_run(tmp_path / "base", [record()])
    out = tmp_path / "cmp.md"
    summary = tmp_path / "summary.md"
    assert main(["compare", str(base), str(base), "--out", str(out), "--job-summary", str(summary)]) == 0
    assert out.read_text().startswith("## ppl-harness compare")
    assert summary.read_text() == out.read_text() + "\n"


def test_quick_suite_and_committed_baseline_agree():
    argv = run_argv("OUT")
    assert argv[0] == "run" and "--repeats" in argv and argv[argv.index("--repeats") + 1] == "6"
    assert argv[argv.index("--size") + 1] == "K=50000"
    baseline = BASELINE
    if not (baseline / "manifest.json").exists():
        pytest.skip("no committed baseline")
    settings = json.loads((baseline / "manifest.json").read_text())["settings"]
    assert settings["models"] == QUICK_SUITE["models"] and sorted(settings["backends"]) == sorted(QUICK_SUITE["backends"])
    assert (settings["chains"], settings["warmup"], settings["draws"], settings["repeats"]) == (
        QUICK_SUITE["chains"], QUICK_SUITE["warmup"], QUICK_SUITE["draws"], QUICK_SUITE["repeats"])
    cmp = compare_runs(baseline, baseline)
    assert not cmp.failed and not cmp.warnings


def test_junit_xml_has_one_case_per_row_and_fails_regressions(tmp_path):
    base = make_run(tmp_path / "base", timed_run(seed=0))
    new = make_run(tmp_path / "new", timed_run(sampling_scale=1.3, seed=100))
    junit = tmp_path / "out" / "junit.xml"
    assert main(["compare", str(base), str(new), "--junit", str(junit)]) == 1
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    cmp = compare_runs(base, new)
    assert len(cases) == len(cmp.rows) + 1  # + the environment case
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) == 6
    assert {c.get("name") for c in failed} == {"timing: sampling_s", "timing: sampling_per_grad", "timing: ess_per_s"}
    assert all(c.get("classname").startswith("ppl-harness.normal_mean.") for c in failed)
    clean = write_junit(compare_runs(base, base), tmp_path / "same.xml")
    assert ET.parse(clean).getroot().get("failures") == "0"


SAMPLING_TIMES = ("sampling_s", "sample_wall_s", "sample_cpu_s")  # every clock around the sampling call


def _scaled_baseline(tmp_path, name, factor, cell, tie=None):
    """A copy of the committed baseline whose ``cell`` samples ``factor`` times slower: every time
    of its sampling call is scaled. ``tie``: a metric whose fastest new value is then set equal to
    the slowest baseline value (a tie at the boundary, as whole-millisecond clocks make)."""
    copy = tmp_path / name
    shutil.copytree(BASELINE, copy)
    pool = [(p, json.loads(p.read_text())) for p in sorted((copy / "cells").glob("*.json"))]
    pool = [(p, r) for p, r in pool if (r["model"], r["backend"]) == cell and r["status"] == "ok"]
    slowest = max(r[tie] for _, r in pool) if tie else None
    for _path, rec in pool:
        for key in SAMPLING_TIMES:
            if isinstance(rec.get(key), (int, float)):
                rec[key] = rec[key] * factor
        rec["ess_per_s"] = rec["ess_bulk_min"] / rec["sampling_s"]
    if tie:
        fastest = min(pool, key=lambda pr: pr[1][tie])[1]
        fastest[tie] = slowest
    for path, rec in pool:
        path.write_text(json.dumps(rec))
    return copy


@pytest.mark.skipif(not (BASELINE / "manifest.json").exists(), reason="no committed baseline")
def test_committed_baseline_flags_a_40_percent_slowdown_even_with_a_tie(tmp_path):
    cells = sorted({(r["model"], r["backend"]) for r in map(json.loads, map(Path.read_text, (BASELINE / "cells").glob("*.json")))})
    caught = []
    for cell in cells:
        slow = _scaled_baseline(tmp_path, f"slow-{cell[0]}-{cell[1]}", 1.4, cell, tie="sample_cpu_s")
        cmp = compare_runs(BASELINE, slow)
        flagged = {r.metric for r in cmp.regressions if (r.model, r.backend) == cell}
        caught.append((cell, bool(flagged & {"sample_cpu_s", "sampling_s", "sampling_per_grad"})))
        assert {r.backend for r in cmp.regressions} <= {cell[1]}
    missed = [c for c, ok in caught if not ok]
    assert not missed, f"1.4x sampling slowdown with a tie not flagged for {missed}"
    # a copy with 1 % jitter everywhere passes
    jittered = tmp_path / "jitter"
    shutil.copytree(BASELINE, jittered)
    rng = np.random.default_rng(5)
    for path in (jittered / "cells").glob("*.json"):
        rec = json.loads(path.read_text())
        for key in ("compile_s", "warmup_s", "total_s", *SAMPLING_TIMES):
            if isinstance(rec.get(key), (int, float)):
                rec[key] = rec[key] * rng.lognormal(0.0, 0.01)
        path.write_text(json.dumps(rec))
    assert not compare_runs(BASELINE, jittered).failed
    assert main(["compare", str(BASELINE), str(jittered)]) == 0


def test_a_zero_median_is_compared_not_divided_by():
    """CPU seconds of a tiny cell can be 0.0 (below /proc's 10 ms tick) on one side."""
    from harness.compare.stats import timing_test

    res = timing_test(pd.Series([0.01] * 6), pd.Series([0.0] * 6), factor=1.1, alpha=0.003, higher_is_better=False)
    assert res.improvement and "better" in res.detail
    res = timing_test(pd.Series([0.0] * 6), pd.Series([0.0] * 6), factor=1.1, alpha=0.003, higher_is_better=False)
    assert not res.regression and not res.improvement
