"""The jobs of each gpu-check part: runner cells (crossover, chains), the GPU test suite, SBC throughput.

Crossover and chains cells are ordinary runner cells (``harness.run``): one worker process per
cell with the core budget and device environment, a timeout, and a record per cell (status, error,
provenance in the part's ``manifest.json``), stored in the runner's standard results directory.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import provenance
from harness.gpu.lanes import Job
from harness.gpu.plan import CheckPlan
from harness.isolation import python_command, run_isolated
from harness.results import RunStore, write_json_atomic
from harness.run.plan import Cell, RunPlan, plan_cells, validate
from harness.run.runner import run_cell_process
from harness.settings import SamplerSettings
from harness.threads import worker_env

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


# ---------------------------------------------------------------- runner cells


class CellPart:
    """Runner cells of one part, on both devices, in one results directory (``cells/``, ``results.csv``)."""

    def __init__(self, name: str, out_dir: Path, command: list[str] | None):
        self.name = name
        self.store = RunStore(out_dir)
        self.logs = out_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.plans: list[dict] = []
        self.command = command

    def add(self, record: dict) -> None:
        with self.lock:
            self.store.add(record)

    def jobs(self, plan: RunPlan, lane: str, cap_s: float, suffix: str = "", extra: dict | None = None) -> list[Job]:
        """Jobs for every cell of ``plan``; ``suffix`` keeps cell ids apart when only settings differ."""
        validate(plan)
        self.plans.append({**plan.settings.to_dict(), "models": plan.models, "backends": plan.backends,
                           "sizes": plan.sizes, "root_seed": plan.root_seed, "cell_id_suffix": suffix,
                           "thread_env": worker_env(plan.settings.cores, plan.settings.device, {})})
        out = []
        for cell in plan_cells(plan):
            if suffix:
                cell = dataclasses.replace(cell, cell_id=f"{cell.cell_id}__{suffix}")
            label = f"{cell.backend} {plan.settings.device} {cell.size_label} chains={plan.settings.chains}"
            out.append(Job(lane, self.name, label, cap_s, self._runner(cell, plan, extra or {}),
                           self._skipper(cell, plan, extra or {}), cell.backend))
        return out

    def _base(self, cell: Cell, plan: RunPlan, extra: dict) -> dict:
        return {"cell_id": cell.cell_id, "model": cell.model, "backend": cell.backend, "repeat": cell.repeat,
                "seed": cell.seed, "size": cell.size_label, "device": plan.settings.device,
                **plan.settings.to_dict(), "part": self.name, **extra}

    def _runner(self, cell, plan, extra):
        def run(timeout_s: float) -> str:
            record = run_cell_process(cell, dataclasses.replace(plan, timeout_s=timeout_s), self.logs)
            record.update(part=self.name, cell_timeout_s=round(timeout_s, 1), **extra)
            self.add(record)
            status = record.get("status")
            if status == "ok":
                return f"ok, ESS/s {record.get('ess_per_s', float('nan')):,.0f}, total {record.get('total_s', 0):.1f} s"
            return f"{status}: {str(record.get('error', '')).strip().splitlines()[0][:120] if record.get('error') else ''}"
        return run

    def _skipper(self, cell, plan, extra):
        def skip(status: str, reason: str) -> None:
            self.add({**self._base(cell, plan, extra), "status": status, "error": reason})
        return skip

    def write_manifest(self, settings: dict) -> None:
        self.store.write_manifest(provenance.collect({**settings, "plans": self.plans}, self.command))


def priority_order(sizes: list[dict]) -> list[dict]:
    """Smallest and largest size first, then the rest ascending: if the budget runs out, the ends
    (which say whether there is a crossover at all) are measured and only the refinement is lost."""
    ordered = sorted(sizes, key=lambda s: sorted(s.items()))
    return ordered[:1] + ordered[-1:] + ordered[1:-1] if len(ordered) > 2 else ordered


def crossover_jobs(plan: CheckPlan, backends: list[str], part: CellPart) -> list[Job]:
    """Cells by N (``priority_order``), then backend, on the GPU lane and the CPU lane."""
    jobs = []
    for size in priority_order(plan.crossover_sizes):
        for device in plan.devices:
            settings = SamplerSettings(chains=plan.chains, warmup=plan.warmup, draws=plan.draws, device=device,
                                       cores=plan.cores)
            run_plan = RunPlan(models=[plan.crossover_model], backends=backends, settings=settings,
                                      root_seed=plan.root_seed, sizes=[size], equivalence=False)
            jobs += part.jobs(run_plan, device, plan.cell_timeout_s)
    return jobs


def chains_jobs(plan: CheckPlan, backends: list[str], part: CellPart) -> list[Job]:
    jobs = []
    for chains in plan.chain_counts:
        for device in plan.devices:
            settings = SamplerSettings(chains=chains, warmup=plan.warmup, draws=plan.draws, device=device,
                                       cores=plan.cores)
            run_plan = RunPlan(models=[plan.chains_model], backends=backends, settings=settings,
                                      root_seed=plan.root_seed, sizes=[plan.chains_size], equivalence=False)
            jobs += part.jobs(run_plan, device, plan.cell_timeout_s, suffix=f"c{chains}")
    return jobs


# ---------------------------------------------------------------- GPU test suite


def gpu_test_files(root: Path = REPO_ROOT) -> list[Path]:
    """``tests/backends/test_gpu.py`` and every other test file that uses the ``gpu`` marker."""
    tests = root / "tests"
    if not tests.is_dir():
        return []
    out = []
    for path in sorted(tests.rglob("test_*.py")):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.name == "test_gpu.py" or re.search(r"mark\.gpu\b", text):
            out.append(path)
    return out


def pytest_command(files: list[Path], junit: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", "-m", "gpu", *[str(f) for f in files], "-q", "-rs",
            "-p", "no:cacheprovider", f"--junitxml={junit}"]


def junit_counts(path: Path) -> dict:
    """{tests, passed, failed, errors, skipped} from a pytest JUnit XML file (zeros when unreadable)."""
    counts = {"tests": 0, "failed": 0, "errors": 0, "skipped": 0}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {**counts, "passed": 0}
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        counts["tests"] += int(suite.get("tests", 0))
        counts["failed"] += int(suite.get("failures", 0))
        counts["errors"] += int(suite.get("errors", 0))
        counts["skipped"] += int(suite.get("skipped", 0))
    counts["passed"] = counts["tests"] - counts["failed"] - counts["errors"] - counts["skipped"]
    return counts


def tests_job(plan: CheckPlan, out_dir: Path, cap_s: float) -> Job:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_path, log_path, junit = out_dir / "summary.json", out_dir / "pytest.log", out_dir / "junit.xml"
    files = gpu_test_files()
    cmd = pytest_command(files, junit)

    def write(summary: dict) -> None:
        write_json_atomic(summary_path, {"command": cmd, "files": [str(f.relative_to(REPO_ROOT)) for f in files],
                                         **summary})

    def run(timeout_s: float) -> str:
        if not files:
            write({"status": "skipped", "error": f"no GPU test files under {REPO_ROOT / 'tests'}"})
            return "skipped (no test files)"
        env = worker_env(plan.cores, "gpu")
        outcome = run_isolated(cmd, timeout_s=timeout_s, log=log_path, env=env, cwd=REPO_ROOT)
        code, wall = outcome.returncode, outcome.seconds
        status = "timeout" if outcome.timed_out else ("ok" if code in (0, 5) else "failed")  # 5: no test selected
        counts = junit_counts(junit)
        tail = log_path.read_text(errors="replace")[-3000:]
        write({"status": status, "exit_code": code, "wall_s": wall, "timeout_s": timeout_s, **counts,
               "error": "" if status == "ok" else f"pytest {status} (exit code {code})", "tail": tail})
        return (f"{status}: {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
                f"{counts['skipped']} skipped in {wall:.0f} s")

    def skip(status: str, reason: str) -> None:
        write({"status": status, "error": reason, "tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0})

    return Job("gpu", "tests", "GPU test suite", cap_s, run, skip)


# ---------------------------------------------------------------- SBC throughput


def sbc_jobs(plan: CheckPlan, backends: list[str], out_dir: Path) -> list[Job]:
    """One worker process per backend x device; it runs the device's batch sizes, smallest first."""
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    jobs = []
    for device in plan.devices:
        for backend in backends:
            jobs.append(_sbc_job(plan, backend, device, out_dir))
    return jobs


def sbc_rows_path(out_dir: Path, backend: str, device: str) -> Path:
    return out_dir / f"{backend}__{device}.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line torn by a kill
            continue
    return rows


def _sbc_job(plan: CheckPlan, backend: str, device: str, out_dir: Path) -> Job:
    batches = list(plan.sbc_batches.get(device, []))
    rows_path = sbc_rows_path(out_dir, backend, device)
    rows_path.unlink(missing_ok=True)
    settings = SamplerSettings(chains=1, warmup=plan.sbc_warmup, draws=plan.sbc_draws, device=device, cores=plan.cores)
    base = {"backend": backend, "model": plan.sbc_model, "device": device}

    def fill(status: str, reason: str) -> None:
        done = {r.get("batch") for r in read_jsonl(rows_path)}
        with open(rows_path, "a") as fh:
            for b in batches:
                if b not in done:
                    fh.write(json.dumps({**base, "batch": b, "status": status, "error": reason}) + "\n")

    def run(timeout_s: float) -> str:
        log_path = out_dir / "logs" / f"{backend}__{device}.log"
        with tempfile.TemporaryDirectory(prefix="ppl-harness-sbcthr-") as tmp:
            task = {"backend": backend, "model": plan.sbc_model, "device": device, "batches": batches,
                    "settings": settings.to_dict(), "root_seed": plan.root_seed, "kept": plan.sbc_kept,
                    "rank_check": plan.sbc_rank_check, "output": str(rows_path.resolve())}
            task_path = Path(tmp) / "task.json"
            task_path.write_text(json.dumps(task))
            env = worker_env(plan.cores, device)
            env["TMPDIR"] = tmp
            outcome = run_isolated(python_command("-m", "harness.gpu.sbc_worker", str(task_path), guard=False),
                                   timeout_s=timeout_s, log=log_path, env=env, cwd=tmp)
            if outcome.timed_out:
                fill("timeout", f"no result after {timeout_s:.0f} s; killed")
            elif outcome.returncode != 0:
                fill("crashed", f"worker exited with code {outcome.returncode}; see {log_path}")
        rows = read_jsonl(rows_path)
        return "; ".join(f"B={r.get('batch')} {r.get('status')}"
                         + (f" {r['reps_per_min']:,.0f}/min" if r.get("reps_per_min") else "") for r in rows)

    return Job(device, "sbc", f"{backend} {device} batches {batches}", plan.cell_timeout_s * max(1, len(batches)),
               run, fill, backend)
