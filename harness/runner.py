"""The fair runner: every cell (model x size x backend x repeat) in its own process, with a timeout.

Every backend gets the same SamplerSettings, the same core budget and, for a given model and repeat,
the same seed (derived from one root seed with numpy's SeedSequence, never the clock). A cell that
crashes, hangs or cannot run becomes a record with a status and its error; the run goes on and
every finished cell is already on disk.

Cells are tasks on ``dask.distributed`` (``harness.cluster``): an embedded ``LocalCluster`` sized to the
machine, or an existing cluster (``scheduler=``). A task still runs its cell in its own process; the
driver (``run``) writes each record as its task finishes, so a run killed at any moment loses only the
cells that were running, and ``run(..., resume=True)`` finishes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from harness import provenance
from harness.backends import validate_backends
from harness.catalogue import get_model, validate_models
from harness.paths import utc_stamp
from harness.results import RunStore, cell_id, write_bytes_atomic
from harness.settings import SamplerSettings, SettingsError
from harness.spec import parse_size  # noqa: F401 (re-exported for callers of the runner)
from harness.threads import worker_env

DEFAULT_TIMEOUT_S = 1800.0
MAX_LOG_BYTES = 4_000_000  # a cell's log that comes back from a remote worker keeps its last 4 MB

# The cell's process dies with the process that started it (Linux PR_SET_PDEATHSIG, then exec): a killed
# runner or Dask worker leaves no cell running on, and a retried or resumed cell never runs twice at once.
_GUARD = (
    "import os, sys\n"
    "try:\n"
    "    import ctypes, signal\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)\n"
    "except Exception:\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(137)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


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


# what a run directory's plan is made of (manifest.json "settings"); resume refuses a plan that differs
PLAN_FIELDS = ("models", "backends", "sizes", "repeats", "root_seed", "chains", "warmup", "draws",
               "target_accept", "max_treedepth", "device", "cores", "timeout_s", "save_draws")


def plan_settings(plan: RunPlan) -> dict:
    """The plan as stored in the manifest's ``settings`` (with the cells' thread environment)."""
    return {
        **plan.settings.to_dict(), "repeats": plan.repeats, "root_seed": plan.root_seed,
        "models": plan.models, "backends": plan.backends, "sizes": plan.sizes, "timeout_s": plan.timeout_s,
        "save_draws": plan.save_draws,
        "thread_env": {k: v for k, v in worker_env(plan.settings.cores, plan.settings.device, {}).items()},
    }


def plan_from_settings(stored: dict, **overrides) -> RunPlan:
    """The RunPlan a manifest's ``settings`` describe; ``overrides`` (RunPlan or SamplerSettings fields) replace parts."""
    sampler = {k: stored[k] for k in SamplerSettings.__dataclass_fields__ if k in stored}
    sampler.update({k: v for k, v in overrides.items() if k in SamplerSettings.__dataclass_fields__})
    fields = {k: stored[k] for k in ("models", "backends", "sizes", "repeats", "root_seed", "timeout_s", "save_draws")
              if k in stored}
    fields.update({k: v for k, v in overrides.items() if k in RunPlan.__dataclass_fields__})
    return RunPlan(settings=SamplerSettings(**sampler), **fields)


def plan_differences(stored: dict, plan: RunPlan) -> list[str]:
    """'field: stored X, given Y' for every plan field where ``plan`` differs from a manifest's settings."""
    defaults = {"save_draws": False, "sizes": [], "timeout_s": DEFAULT_TIMEOUT_S}
    given = json.loads(json.dumps(plan_settings(plan)))
    out = []
    for key in PLAN_FIELDS:
        before = stored.get(key, defaults.get(key))
        if before != given[key]:
            out.append(f"{key}: stored {before!r}, given {given[key]!r}")
    return out


def cell_seed(root_seed: int, model: str, size_label: str, repeat: int) -> int:
    """The seed of one model/size/repeat, shared by every backend (31-bit, from SeedSequence)."""
    key = zlib.crc32(f"{model}@{size_label}".encode())
    state = __import__("numpy").random.SeedSequence([root_seed, key, repeat]).generate_state(1)
    return int(state[0] >> 1)


def validate_names(models: list[str], backends: list[str]) -> None:
    """Models and backends exist (not necessarily installed), each once; errors list the valid choices."""
    validate_models(models)
    validate_backends(backends)


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
    cells = []
    for model in plan.models:
        spec = get_model(model)
        sizes = [s for s in plan.sizes if set(s) <= set(spec.size_defaults)] or [{}]
        for size in sizes:
            label = spec.size_label(size)
            for repeat in range(plan.repeats):
                seed = cell_seed(plan.root_seed, model, label, repeat)
                for backend in plan.backends:
                    cid = cell_id(model, label, backend, repeat, plan.settings.device)
                    cells.append(Cell(model, size, backend, repeat, seed, cid, label))
    return cells


def _base_record(cell: Cell, plan: RunPlan) -> dict:
    return {"cell_id": cell.cell_id, "model": cell.model, "backend": cell.backend, "repeat": cell.repeat,
            "seed": cell.seed, "size": cell.size_label, "device": plan.settings.device, **plan.settings.to_dict()}


def _run_worker(cell: Cell, plan: RunPlan, logs: Path) -> dict:
    """Run one cell's worker process; a hang or a crash becomes a record here."""
    base = _base_record(cell, plan)
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
                [sys.executable, "-c", _GUARD, str(os.getpid()), "-m", "harness.worker", str(task_path)],
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
    stamp = utc_stamp()
    return base / stamp


def run(plan: RunPlan, out_dir: Path, progress: bool = True, command: list[str] | None = None, *,
        resume: bool = False, scheduler: str | None = None, workers: int | None = None) -> Path:
    """Run every cell of ``plan`` into ``out_dir``; returns the run directory.

    Cells run as Dask tasks: on an embedded ``LocalCluster`` of ``workers`` workers (default: sized to
    the machine, ``harness.cluster``) or on the cluster whose scheduler is at ``scheduler``. Records are
    written as cells finish. ``resume=True`` finishes the run in ``out_dir``: cells with a record are
    skipped, cells that were running are run again; a plan that differs from the stored one is refused.
    """
    validate(plan)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise SettingsError(f"--workers must be a positive integer, got {workers!r}")
    out_dir = Path(out_dir)
    cells = plan_cells(plan)
    settings = plan_settings(plan)
    done: set[str] = set()
    from harness.cluster import local_worker_count

    execution = {"scheduler": scheduler} if scheduler else {
        "scheduler": "embedded LocalCluster",
        "workers": local_worker_count(plan.settings.cores, plan.settings.device, workers)}
    if resume:
        manifest = _stored_manifest(out_dir)
        diffs = plan_differences(manifest.get("settings", {}), plan)
        if diffs:
            raise SettingsError(f"cannot resume {out_dir}: the plan differs from the stored one ("
                                + "; ".join(diffs) + "); resume with the stored plan or start a new run")
        store = RunStore(out_dir)
        done = store.finished_ids() & {c.cell_id for c in cells}
        manifest.setdefault("resumes", []).append({
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": command, "cells_done": len(done), "cells_left": len(cells) - len(done), "execution": execution})
        store.write_manifest(manifest)
        store.refresh()
    else:
        existing = RunStore.existing_ids(out_dir)
        if existing:
            raise SettingsError(f"{out_dir} already holds a run ({len(existing)} cell records); finish it with "
                                f"`harness run --resume {out_dir}` or choose a new --out")
        store = RunStore(out_dir)
        store.write_manifest({**provenance.collect(settings, command), "execution": execution})
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if c.cell_id not in done]
    if todo:
        run_cells(plan, todo, store, logs, progress=progress, scheduler=scheduler, workers=workers)
    if plan.equivalence and not (resume and (out_dir / "equivalence.csv").exists()):
        run_equivalence(plan, out_dir)
    return out_dir


def _stored_manifest(out_dir: Path) -> dict:
    path = out_dir / "manifest.json"
    if not path.exists():
        raise SettingsError(f"cannot resume {out_dir}: it holds no run (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SettingsError(f"cannot resume {out_dir}: {path} is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("settings"), dict):
        raise SettingsError(f"cannot resume {out_dir}: {path} holds no run settings")
    return manifest


def _cell_task(cell: Cell, plan: RunPlan, live_logs: str | None = None) -> dict:
    """One Dask task: the cell in its own process; its record, log and draws come back to the driver.

    The log is written straight into ``live_logs`` where this worker sees that folder (the same machine
    or a shared file system), so a running cell's log can be followed; otherwise it comes back as text.
    """
    with tempfile.TemporaryDirectory(prefix="ppl-harness-task-") as tmp:
        scratch = Path(tmp) / "logs"
        scratch.mkdir()
        logs = Path(live_logs) if live_logs and Path(live_logs).is_dir() else scratch
        record = _run_worker(cell, plan, logs)  # draws (save_draws) land in <tmp>/draws: see below
        log = None
        if logs == scratch:
            with open(scratch / f"{cell.cell_id}.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - MAX_LOG_BYTES))
                log = fh.read()
        draws_file = Path(tmp) / "draws" / f"{cell.cell_id}.nc"
        draws = draws_file.read_bytes() if draws_file.exists() else None
    return {"record": record, "log": log, "draws": draws}


def run_cells(plan: RunPlan, cells: list[Cell], store: RunStore, logs: Path, progress: bool = True,
              scheduler: str | None = None, workers: int | None = None) -> None:
    """Run ``cells`` as Dask tasks and store each record as its task finishes.

    Tasks are handed to the cluster only as fast as its workers can start them (one per free slot of
    the ``cores``/``gpu`` resources), so a task waits in the driver, not in a worker's queue: a worker
    that dies takes down only the task it was running, which Dask runs again elsewhere.
    """
    from distributed import KilledWorker, as_completed

    from harness import cluster

    draws_dir = logs.parent / "draws"
    token = uuid.uuid4().hex[:8]
    with cluster.dask_client(scheduler, cores=plan.settings.cores, device=plan.settings.device,
                             workers=workers) as client:
        if scheduler:
            cluster.wait_for_capacity(client, {}, scheduler)  # any worker at all
        needs = cluster.needs_for(plan.settings, client)
        slots = cluster.wait_for_capacity(client, needs, scheduler)
        queue: deque[Cell] = deque(cells)
        running: dict[str, Cell] = {}
        finished = as_completed(loop=client.loop)
        live_logs = str(logs.resolve())
        bar = tqdm(total=len(cells), disable=not progress, unit="cell", dynamic_ncols=True, file=sys.stderr)

        def top_up(slots: int) -> None:
            while queue and len(running) < max(1, slots):
                cell = queue.popleft()
                future = client.submit(_cell_task, cell, plan, live_logs, key=f"cell-{cell.cell_id}-{token}",
                                       resources=needs, pure=False)
                running[future.key] = cell
                finished.add(future)

        top_up(slots)
        for future in finished:
            cell = running.pop(future.key)
            try:
                result = future.result()
            except KilledWorker as err:
                last = getattr(getattr(err, "last_worker", None), "address", "?")
                deaths = getattr(err, "allowed_failures", cluster.ALLOWED_FAILURES) + 1
                result = {"record": {**_base_record(cell, plan), "status": "crashed", "error": (
                    f"KilledWorker: the Dask worker running this cell died {deaths} times (last: {last}); "
                    "the cell was not retried again")}}
            except Exception as err:  # the task itself failed (e.g. the project is missing on a remote worker)
                if type(err).__name__ == "CancelledError":
                    raise RuntimeError(f"the Dask scheduler cancelled cell {cell.cell_id}; finish the run with "
                                       f"`harness run --resume {logs.parent}`") from err
                result = {"record": {**_base_record(cell, plan), "status": "crashed",
                                     "error": f"the Dask task failed: {type(err).__name__}: {err}"}}
            future.release()
            _store_result(store, logs, draws_dir, cell, result)
            bar.set_postfix_str(f"{cell.model} {cell.backend} r{cell.repeat}")
            bar.update()
            if queue:
                top_up(cluster.capacity(client, needs))
        bar.close()


def _store_result(store: RunStore, logs: Path, draws_dir: Path, cell: Cell, result: dict) -> None:
    """Draws, then log, then the record: the record is written last, so a cell without one is redone."""
    if result.get("draws") is not None:
        write_bytes_atomic(draws_dir / f"{cell.cell_id}.nc", result["draws"])
    if result.get("log") is not None:
        write_bytes_atomic(logs / f"{cell.cell_id}.log", result["log"])
    store.add(result["record"])


def run_equivalence(plan: RunPlan, out_dir: Path) -> None:
    """Log-density equivalence of the run's models x backends, in its own process, into equivalence.csv.

    A failure here is logged and leaves no table; it never loses the benchmark records.
    """
    final = Path(out_dir).resolve() / "equivalence.csv"
    partial = final.with_name(".equivalence.csv.tmp")  # renamed when complete: a killed run leaves no half table
    cmd = [sys.executable, "-m", "harness.equivalence", "--models", ",".join(plan.models),
           "--backends", ",".join(plan.backends), "--out", str(partial)]
    with tempfile.TemporaryDirectory(prefix="ppl-harness-eq-") as tmp, \
            open(out_dir / "logs" / "equivalence.log", "w") as log:
        env = worker_env(plan.settings.cores, "cpu")
        env["TMPDIR"] = tmp
        try:
            subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp, timeout=plan.timeout_s)
        except subprocess.TimeoutExpired:
            log.write(f"\nequivalence check timed out after {plan.timeout_s:.0f} s\n")
        if partial.exists():
            os.replace(partial, final)
