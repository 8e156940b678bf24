"""gpu-check: crossover logic, tables, the budgeted lanes, the peak device memory column, and the
command end to end at smoke size (on a machine without a GPU its GPU cells are recorded as skipped)."""

import dataclasses
import json
import math
import types

import pytest

from harness.backends import REGISTRY, availability, load_module
from harness.backends.base import SupportsDeviceMemory
from harness.gpu import lanes, parts, select, summary
from harness.gpu.plan import PARTS, smoke_plan
from harness.results import STATUSES, RunStore


def row(n, device, status="ok", ess_per_s=math.nan, ttr=math.nan):
    return {"N": n, "device": device, "status": status, "ess_per_s": ess_per_s, "time_to_result_s": ttr}


# ---------------------------------------------------------------- crossover N


def test_crossover_is_the_smallest_n_where_the_gpu_wins():
    rows = [row(1_000, "cpu", ess_per_s=900), row(1_000, "gpu", ess_per_s=100),
            row(10_000, "cpu", ess_per_s=300), row(10_000, "gpu", ess_per_s=250),
            row(100_000, "cpu", ess_per_s=40), row(100_000, "gpu", ess_per_s=200),
            row(1_000_000, "cpu", ess_per_s=3), row(1_000_000, "gpu", ess_per_s=150)]
    assert summary.crossover_n(rows) == (100_000, "")


def test_crossover_none_when_the_cpu_always_wins():
    rows = [row(100, "cpu", ess_per_s=10), row(100, "gpu", ess_per_s=5), row(200, "cpu", ess_per_s=9),
            row(200, "gpu", ess_per_s=8)]
    n, note = summary.crossover_n(rows)
    assert n is None and "CPU ahead" in note


def test_crossover_on_time_to_result_lower_is_better():
    rows = [row(1_000, "cpu", ttr=5.0), row(1_000, "gpu", ttr=20.0), row(10_000, "cpu", ttr=30.0),
            row(10_000, "gpu", ttr=21.0)]
    assert summary.crossover_n(rows, "time_to_result_s", higher_is_better=False) == (10_000, "")


def test_crossover_counts_a_cpu_timeout_as_a_gpu_win_and_skips_unmeasured_sizes():
    rows = [row(1_000, "cpu", ess_per_s=900), row(1_000, "gpu", status="failed"),
            row(1_000_000, "cpu", status="timeout"), row(1_000_000, "gpu", ess_per_s=10)]
    assert summary.crossover_n(rows) == (1_000_000, "CPU cell timed out")


def test_crossover_without_gpu_results_is_none():
    rows = [row(100, "cpu", ess_per_s=10), row(100, "gpu", status="skipped")]
    n, note = summary.crossover_n(rows)
    assert n is None and "no N" in note


def test_priority_order_measures_the_ends_first():
    sizes = [{"N": n} for n in (10_000, 1_000, 1_000_000, 100_000)]
    assert [s["N"] for s in parts.priority_order(sizes)] == [1_000, 1_000_000, 10_000, 100_000]


# ---------------------------------------------------------------- tables from stored records


def _cell(backend, device, n, status="ok", chains=4, **metrics):
    size = f"N={n},D=10"
    rec = {"cell_id": f"logistic_regression@{size}__{backend}__{device}__r0__c{chains}", "model": "logistic_regression",
           "backend": backend, "repeat": 0, "seed": 1, "size": size, "device": device, "chains": chains,
           "warmup": 10, "draws": 10, "status": status, "error": "" if status == "ok" else f"{status} because",
           "peak_rss_mb": 100.0, "peak_device_mb": 50.0 if device == "gpu" else None}
    rec.update(metrics)
    return rec


def test_summary_tables_and_markdown(tmp_path):
    cross = RunStore(tmp_path / "crossover")
    for rec in [
        _cell("b1", "cpu", 1000, compile_s=1.0, warmup_s=1.0, sampling_s=1.0, ess_per_s=500.0),
        _cell("b1", "gpu", 1000, compile_s=5.0, warmup_s=1.0, sampling_s=1.0, ess_per_s=400.0),
        _cell("b1", "cpu", 1000000, status="timeout"),
        _cell("b1", "gpu", 1000000, compile_s=5.0, warmup_s=2.0, sampling_s=2.0, ess_per_s=300.0),
    ]:
        cross.add(rec)
    chains = RunStore(tmp_path / "chains")
    chains.add(_cell("b1", "gpu", 1000, chains=1, sampling_s=1.0, ess_per_s=100.0, compile_s=1.0, warmup_s=1.0))
    chains.add(_cell("b1", "gpu", 1000, chains=64, sampling_s=1.0, ess_per_s=3200.0, compile_s=1.0, warmup_s=1.0))
    sbc_dir = tmp_path / "sbc-throughput"
    sbc_dir.mkdir()
    (sbc_dir / "b1__gpu.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"backend": "b1", "model": "m", "device": "gpu", "batch": 100, "status": "ok", "reps_per_min": 2000.0,
         "ranks_ok": 5, "ranks_checked": 5},
        {"backend": "b1", "model": "m", "device": "gpu", "batch": 10000, "status": "ok", "reps_per_min": 25000.0,
         "ranks_ok": 4, "ranks_checked": 5},
    ]) + "\n")
    (tmp_path / "gpu-tests").mkdir()
    (tmp_path / "gpu-tests" / "summary.json").write_text(json.dumps(
        {"status": "ok", "passed": 3, "failed": 0, "errors": 0, "skipped": 1, "wall_s": 12.0, "tail": "3 passed"}))
    (tmp_path / "manifest.json").write_text(json.dumps({"command": ["python", "-m", "harness", "gpu-check"],
                                                        "settings": {"plan": {"smoke": False, "budget_s": 480}}}))
    tables = summary.write_summary(tmp_path)
    assert tables["crossover_summary"].to_dict("records")[0]["crossover_N_ess_per_s"] == 1_000_000
    ttr = tables["crossover"].set_index(["N", "device"])["time_to_result_s"]
    assert ttr[(1000, "gpu")] == pytest.approx(7.0)
    speed = tables["chains"].set_index("chains")["speedup_vs_1_chain"]
    assert speed[64] == pytest.approx(32.0)
    assert list(tables["sbc"]["goal_met"]) == [False, True]
    for name in ("crossover.csv", "crossover_n.csv", "chains.csv", "sbc_throughput.csv", "gpu-check.md"):
        assert (tmp_path / name).exists(), name
    md = (tmp_path / "gpu-check.md").read_text()
    assert "1,000,000" in md and "CPU cell timed out" in md
    assert "goal of 10,000/min **met**" in md
    assert "3 passed" in md and "peak device MiB" in md


def test_junit_counts(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites><testsuite tests="5" failures="1" errors="1" skipped="2"/></testsuites>')
    assert parts.junit_counts(path) == {"tests": 5, "failed": 1, "errors": 1, "skipped": 2, "passed": 1}
    assert parts.junit_counts(tmp_path / "missing.xml")["tests"] == 0


def test_gpu_test_files_include_the_gpu_suite():
    assert any(p.name == "test_gpu.py" for p in parts.gpu_test_files())


# ---------------------------------------------------------------- lanes and budget


def test_lanes_skip_jobs_past_their_part_deadline_and_record_internal_errors():
    ran, skipped = [], []

    def job(part, label, fail=False):
        def run(timeout_s):
            if fail:
                raise RuntimeError("boom")
            ran.append((label, timeout_s))
            return "ok"
        return lanes.Job("cpu", part, label, 30.0, run, lambda status, reason: skipped.append((label, status, reason)))

    now = [100.0]
    deadlines = {"crossover": 200.0, "chains": 100.5}
    jobs = [job("crossover", "a"), job("crossover", "b", fail=True), job("chains", "c")]
    lanes.run_lanes(jobs, deadlines, cpu_lanes=1, min_start_s=5.0, log=lambda m: None, clock=lambda: now[0])
    assert ran == [("a", 30.0)]  # capped by the job's own cap
    assert skipped[0][:2] == ("b", "failed") and "boom" in skipped[0][2]
    assert skipped[1][:2] == ("c", "skipped") and "budget" in skipped[1][2]


def test_plan_deadlines_are_cumulative_shares():
    plan = smoke_plan(budget_s=110.0)
    d = plan.deadlines(0.0)
    assert list(d) == list(PARTS)
    assert d["tests"] < d["crossover"] < d["chains"] < d["sbc"] == pytest.approx(100.0)


# ---------------------------------------------------------------- selection


def test_selection_by_capability_leaves_out_fakes():
    for capability in select.CAPABILITIES:
        sel = select.select(capability)
        for name in sel.run + list(sel.not_run):
            module = load_module(name)
            assert not select.is_fake(module)
            assert select.has_capability(module, capability)
    assert not any(select.is_fake(load_module(n)) for n in select.select("gpu").run)
    assert any(select.is_fake(load_module(n)) for n in REGISTRY)  # the fakes are registered, just not chosen


def test_vectorized_chains_needs_an_explicit_declaration(monkeypatch):
    from harness.backends.base import Capabilities

    caps = Capabilities(name="x", family="numpyro", requires=(), packages=(), extra="numpyro", devices=("cpu", "gpu"))
    module = types.SimpleNamespace(CAPABILITIES=caps)
    assert not select.has_capability(module, "vectorized_chains")
    module.CAPABILITIES = dataclasses.replace(caps, vectorized_chains=True)
    assert select.has_capability(module, "vectorized_chains")


# ---------------------------------------------------------------- peak device memory column


def test_peak_device_mb_is_in_every_record_of_a_cell_that_ran():
    from harness.run.worker import run_cell
    from harness.settings import SamplerSettings

    settings = SamplerSettings(chains=2, warmup=10, draws=50)
    task = {"cell_id": "c", "model": "normal_mean", "backend": "fake_exact", "repeat": 0, "seed": 3, "size": {},
            "settings": settings.to_dict()}
    record = run_cell(task)
    assert record["status"] == "ok"
    assert "peak_device_mb" in record and record["peak_device_mb"] is None  # the fake has no hook
    assert "peak_rss_mb" in record


def test_peak_device_mb_uses_the_backend_hook():
    from harness.resources import peak_device_mb as _peak_device_mb

    assert _peak_device_mb(types.SimpleNamespace(peak_device_memory_mb=lambda: 12)) == 12.0
    assert _peak_device_mb(types.SimpleNamespace(peak_device_memory_mb=lambda: None)) is None

    def broken():
        raise RuntimeError("no stats")

    assert _peak_device_mb(types.SimpleNamespace(peak_device_memory_mb=broken)) is None
    assert _peak_device_mb(None) is None


def test_torch_backend_reports_no_device_memory_without_cuda():
    for name in REGISTRY:
        module = load_module(name)
        if "torch" in module.CAPABILITIES.requires and isinstance(module, SupportsDeviceMemory):
            value = module.peak_device_memory_mb()
            torch = __import__("sys").modules.get("torch")
            if torch is None or not torch.cuda.is_available():
                assert value is None


# ---------------------------------------------------------------- end to end


def _gpu_capable_available():
    usable = availability()
    return [n for n in select.select("gpu").run if usable.get(n) is None]


def _check_records(out, part):
    records = RunStore(out / part).records()
    assert records, part
    for rec in records:
        assert rec["status"] in STATUSES
        if rec["device"] == "cpu":
            assert rec["status"] == "ok", rec.get("error")
            assert "peak_device_mb" in rec
        elif availability().get(rec["backend"]) is None and not _has_gpu(rec["backend"]):
            assert rec["status"] == "skipped"
    return records


def _has_gpu(name):
    ok, _ = load_module(name).gpu_available()
    return ok


def test_gpu_check_smoke_crossover_one_backend(tmp_path):
    """The cheap end-to-end path of the normal suite: the crossover part with one backend."""
    from harness.cli import main

    names = _gpu_capable_available()
    if not names:
        pytest.skip("no GPU-capable backend installed")
    out = tmp_path / "gc"
    rc = main(["gpu-check", "--smoke", "--parts", "crossover", "--backends", names[0], "--out", str(out),
               "--no-progress"])
    assert rc == 0
    records = _check_records(out, "crossover")
    assert {r["device"] for r in records} == {"cpu", "gpu"}
    assert len(records) == 4  # N = 100, 200 x cpu, gpu
    assert (out / "gpu-check.md").exists() and (out / "crossover.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["machine"]["python"]


@pytest.mark.slow
def test_gpu_check_smoke_end_to_end(tmp_path, monkeypatch):
    """``gpu-check --smoke --out tmp``: every part. Backends that can vectorise chains but do not declare
    ``vectorized_chains`` yet are declared here so the chains part runs too."""
    from harness.cli import main

    names = _gpu_capable_available()
    if not names:
        pytest.skip("no GPU-capable backend installed")
    for name in names:
        module = load_module(name)
        if select.has_capability(module, "sample_batch") and not module.CAPABILITIES.vectorized_chains:
            monkeypatch.setattr(module, "CAPABILITIES", dataclasses.replace(module.CAPABILITIES, vectorized_chains=True))
    out = tmp_path / "gc"
    rc = main(["gpu-check", "--smoke", "--out", str(out), "--no-progress"])
    assert rc == 0
    _check_records(out, "crossover")
    if select.select("vectorized_chains").run:
        chains = _check_records(out, "chains")
        assert {r["chains"] for r in chains} == {1, 2}
    tests = json.loads((out / "gpu-tests" / "summary.json").read_text())
    assert tests["status"] == "ok" and tests["failed"] == 0
    sbc = [json.loads(line) for p in (out / "sbc-throughput").glob("*.jsonl") for line in p.read_text().splitlines()]
    if select.select("sample_batch").run:
        cpu = [r for r in sbc if r["device"] == "cpu"]
        assert {r["batch"] for r in cpu} == {2, 4} and all(r["status"] == "ok" for r in cpu)
    md = (out / "gpu-check.md").read_text()
    for heading in ("## GPU test suite", "## CPU/GPU crossover", "## Chains scaling", "## SBC throughput"):
        assert heading in md
