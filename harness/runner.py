"""The fair runner: every cell (model x size x backend x repeat) in its own process, with a timeout.

Every backend gets the same SamplerSettings, the same core budget and, for a given model and repeat,
the same seed (derived from one root seed with numpy's SeedSequence, never the clock). A cell that
crashes, hangs or cannot run becomes a record with a status and its error; the run goes on and
every finished cell is already on disk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from harness import provenance
from harness.backends import backend_names, load_module
from harness.catalogue import get_model, model_names
from harness.results import RunStore, cell_id, records_frame
from harness.settings import SamplerSettings, SettingsError
from harness.threads import worker_env

DEFAULT_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Cell:
    model: str
    size: dict
    backend: str
    repeat: int
    seed: int
    cell_id: str
    size_label: str = ""


@dataclass
class RunPlan:
    models: list[str]
    backends: list[str]
    settings: SamplerSettings
    repeats: int = 1
    root_seed: int = 0
    sizes: list[dict] = field(default_factory=list)
    timeout_s: float = DEFAULT_TIMEOUT_S
    equivalence: bool = True
    save_draws: bool = False  # each ok cell's draws as InferenceData in <run>/draws/<cell>.nc


def cell_seed(root_seed: int, model: str, size_label: str, repeat: int) -> int:
    """The seed of one model/size/repeat, shared by every backend (31-bit, from SeedSequence)."""
    key = zlib.crc32(f"{model}@{size_label}".encode())
    state = __import__("numpy").random.SeedSequence([root_seed, key, repeat]).generate_state(1)
    return int(state[0] >> 1)


def parse_size(text: str) -> dict:
    """'N=1000,D=10' -> {'N': 1000, 'D': 10}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"size {text!r} must look like N=1000,D=10")
        try:
            out[key.strip()] = int(float(value))
        except ValueError:
            raise SettingsError(f"size {text!r}: {value!r} is not a number") from None
        if out[key.strip()] < 1:
            raise SettingsError(f"size {text!r}: sizes must be positive")
    return out


def validate_names(models: list[str], backends: list[str]) -> None:
    """Models and backends exist (not necessarily installed); errors list the valid choices."""
    if not models:
        raise SettingsError("no models selected; valid models: " + ", ".join(model_names()))
    if not backends:
        raise SettingsError("no backends selected; valid backends: " + ", ".join(backend_names()))
    for name in models:
        get_model(name)
    for name in backends:
        load_module(name)


def validate(plan: RunPlan) -> None:
    """Every name and setting is checked before any work starts; errors list the valid choices."""
    validate_names(plan.models, plan.backends)
    if plan.repeats < 1:
        raise SettingsError(f"repeats must be a positive integer, got {plan.repeats}")
    if not plan.timeout_s > 0:
        raise SettingsError(f"timeout must be positive, got {plan.timeout_s}")
    for size in plan.sizes:
        if not any(set(size) <= set(get_model(m).size_defaults) for m in plan.models):
            scalable = [m for m in plan.models if get_model(m).size_defaults]
            raise SettingsError(
                f"size {size} fits none of the selected models; size-scalable models: "
                + (", ".join(f"{m} ({', '.join(get_model(m).size_defaults)})" for m in scalable) or "none selected")
            )


def plan_cells(plan: RunPlan) -> list[Cell]:
    """Cells in run order: model, size, repeat, then backend (so backends alternate in time)."""
    from harness.worker import size_label

    cells = []
    for model in plan.models:
        spec = get_model(model)
        sizes = [s for s in plan.sizes if set(s) <= set(spec.size_defaults)] or [{}]
        for size in sizes:
            label = size_label(spec, size)
            for repeat in range(plan.repeats):
                seed = cell_seed(plan.root_seed, model, label, repeat)
                for backend in plan.backends:
                    cid = cell_id(model, label, backend, repeat, plan.settings.device)
                    cells.append(Cell(model, size, backend, repeat, seed, cid, label))
    return cells


def _run_worker(cell: Cell, plan: RunPlan, logs: Path) -> dict:
    """Run one cell's worker process; a hang or a crash becomes a record here."""
    base = {"cell_id": cell.cell_id, "model": cell.model, "backend": cell.backend, "repeat": cell.repeat,
            "seed": cell.seed, "size": cell.size_label, "device": plan.settings.device, **plan.settings.to_dict()}
    with tempfile.TemporaryDirectory(prefix="ppl-harness-cell-") as tmp:
        output = Path(tmp) / "record.json"
        task = {**base, "size": cell.size, "settings": plan.settings.to_dict(), "output": str(output)}
        if plan.save_draws:
            task["draws_path"] = str((logs.parent / "draws" / f"{cell.cell_id}.nc").resolve())
        task_path = Path(tmp) / "task.json"
        task_path.write_text(json.dumps(task))
        env = worker_env(plan.settings.cores, plan.settings.device)
        env["TMPDIR"] = tmp  # pytensor/httpstan scratch files die with the cell
        log_path = logs / f"{cell.cell_id}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "harness.worker", str(task_path)],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True,
            )
            try:
                proc.wait(timeout=plan.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {**base, "status": "timeout", "error": f"no result after {plan.timeout_s:.0f} s; killed"}
            finally:
                _kill_group(proc.pid)
        if output.exists():
            return json.loads(output.read_text())
        tail = log_path.read_text(errors="replace")[-3000:]
        return {**base, "status": "crashed", "error": f"worker exited with code {proc.returncode}\n{tail}"}


def _kill_group(pid: int) -> None:
    """Leftover children of a worker (e.g. httpstan's process pool) die with it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def default_run_dir(base: Path = Path("results") / "runs") -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return base / stamp


def run(plan: RunPlan, out_dir: Path, progress: bool = True, command: list[str] | None = None) -> Path:
    """Run every cell of ``plan`` into ``out_dir``; returns the run directory."""
    validate(plan)
    cells = plan_cells(plan)
    store = RunStore(out_dir)
    settings = {
        **plan.settings.to_dict(), "repeats": plan.repeats, "root_seed": plan.root_seed,
        "models": plan.models, "backends": plan.backends, "sizes": plan.sizes, "timeout_s": plan.timeout_s,
        "save_draws": plan.save_draws,
        "thread_env": {k: v for k, v in worker_env(plan.settings.cores, plan.settings.device, {}).items()},
    }
    store.write_manifest(provenance.collect(settings, command))
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bar = tqdm(cells, disable=not progress, unit="cell", dynamic_ncols=True, file=sys.stderr)
    for cell in bar:
        bar.set_postfix_str(f"{cell.model} {cell.backend} r{cell.repeat}")
        store.add(_run_worker(cell, plan, logs))
    bar.close()
    if plan.equivalence:
        run_equivalence(plan, out_dir)
    return out_dir


def run_equivalence(plan: RunPlan, out_dir: Path) -> None:
    """Log-density equivalence of the run's models x backends, in its own process, into equivalence.csv.

    A failure here is logged and leaves no table; it never loses the benchmark records.
    """
    cmd = [sys.executable, "-m", "harness.equivalence", "--models", ",".join(plan.models),
           "--backends", ",".join(plan.backends), "--out", str(Path(out_dir).resolve() / "equivalence.csv")]
    with tempfile.TemporaryDirectory(prefix="ppl-harness-eq-") as tmp, \
            open(out_dir / "logs" / "equivalence.log", "w") as log:
        env = worker_env(plan.settings.cores, "cpu")
        env["TMPDIR"] = tmp
        try:
            subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, timeout=plan.timeout_s)
        except subprocess.TimeoutExpired:
            log.write(f"\nequivalence check timed out after {plan.timeout_s:.0f} s\n")


def summary(run_dir: Path):
    """The run's tidy table (all records)."""
    return records_frame(RunStore(run_dir).records())
