"""The fair runner: every cell (model x size x backend x repeat) in its own process, with a timeout.

A cell that crashes, hangs or cannot run becomes a record with a status and its error; the run goes
on and every finished cell is already on disk. A cell whose backend samples a family the model does
not bring is recorded as ``not implemented`` with the model's reason, without starting a process.

Cells are tasks on ``dask.distributed`` (``harness.cluster``): an embedded ``LocalCluster`` sized to the
machine, or an existing cluster (``scheduler=``). A task still runs its cell in its own process
(``harness.isolation``); the driver (``run``) writes each record as its task finishes, so a run killed
at any moment loses only the cells that were running, and ``run(..., resume=True)`` finishes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from collections import deque
from pathlib import Path

from tqdm import tqdm

from harness import provenance
from harness.isolation import python_command, run_isolated
from harness.paths import runs_root, stamped
from harness.results import RunStore, write_bytes_atomic
from harness.run.plan import Cell, RunPlan, plan_cells, plan_differences, plan_settings, stored_manifest, validate
from harness.settings import SettingsError
from harness.threads import worker_env

MAX_LOG_BYTES = 4_000_000  # a cell's log that comes back from a remote worker keeps its last 4 MB


def missing_family(cell: Cell) -> str | None:
    """"not implemented: <reason>" when the model does not bring the family the cell's backend samples."""
    from harness.backends import capabilities
    from harness.catalogue import missing_family_reason
    from harness.spec import FAMILY_FILES

    family = capabilities(cell.backend).family
    return missing_family_reason(cell.model, family) if family in FAMILY_FILES else None


def _base_record(cell: Cell, plan: RunPlan) -> dict:
    return {"cell_id": cell.cell_id, "model": cell.model, "backend": cell.backend, "repeat": cell.repeat,
            "seed": cell.seed, "size": cell.size_label, "device": plan.settings.device, **plan.settings.to_dict()}


def run_cell_process(cell: Cell, plan: RunPlan, logs: Path) -> dict:
    """Run one cell's worker process (``harness.run.worker``); a hang or a crash becomes a record here."""
    base = _base_record(cell, plan)
    with tempfile.TemporaryDirectory(prefix="ppl-harness-cell-") as tmp:
        output = Path(tmp) / "record.json"
        task = {**base, "size": cell.size, "settings": plan.settings.to_dict(), "output": str(output),
                "started": dt.datetime.now(dt.timezone.utc).timestamp()}
        if plan.save_draws:
            task["draws_path"] = str((logs.parent / "draws" / f"{cell.cell_id}.nc").resolve())
        task["accuracy_path"] = str((logs.parent / "accuracy" / f"{cell.cell_id}.csv").resolve())
        task_path = Path(tmp) / "task.json"
        task_path.write_text(json.dumps(task))
        env = worker_env(plan.settings.cores, plan.settings.device)
        env["TMPDIR"] = tmp  # pytensor/httpstan scratch files die with the cell
        log_path = logs / f"{cell.cell_id}.log"
        outcome = run_isolated(python_command("-m", "harness.run.worker", str(task_path)), timeout_s=plan.timeout_s,
                               log=log_path, env=env, cwd=tmp)
        if outcome.timed_out:
            return {**base, "status": "timeout", "error": f"no result after {plan.timeout_s:.0f} s; killed"}
        if output.exists():
            return json.loads(output.read_text())
        tail = log_path.read_text(errors="replace")[-3000:]
        return {**base, "status": "crashed", "error": f"worker exited with code {outcome.returncode}\n{tail}"}


def default_run_dir() -> Path:
    return stamped(runs_root())


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
        manifest = stored_manifest(out_dir)
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
    for cell in [c for c in todo if missing_family(c)]:
        store.add({**_base_record(cell, plan), "status": "not implemented", "error": missing_family(cell)})
    todo = [c for c in todo if not missing_family(c)]
    if todo:
        run_cells(plan, todo, store, logs, progress=progress, scheduler=scheduler, workers=workers)
    if plan.equivalence and not (resume and (out_dir / "equivalence.csv").exists()):
        from harness.cluster import local_worker_count

        run_equivalence(plan, out_dir, progress=progress,
                        workers=local_worker_count(plan.settings.cores, plan.settings.device, workers))
    return out_dir


def _cell_task(cell: Cell, plan: RunPlan, live_logs: str | None = None) -> dict:
    """One Dask task: the cell in its own process; its record, log and draws come back to the driver.

    The log is written straight into ``live_logs`` where this worker sees that folder (the same machine
    or a shared file system), so a running cell's log can be followed; otherwise it comes back as text.
    """
    with tempfile.TemporaryDirectory(prefix="ppl-harness-task-") as tmp:
        scratch = Path(tmp) / "logs"
        scratch.mkdir()
        logs = Path(live_logs) if live_logs and Path(live_logs).is_dir() else scratch
        record = run_cell_process(cell, plan, logs)  # draws (save_draws) land in <tmp>/draws: see below
        log = None
        if logs == scratch:
            with open(scratch / f"{cell.cell_id}.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - MAX_LOG_BYTES))
                log = fh.read()
        draws_file = Path(tmp) / "draws" / f"{cell.cell_id}.nc"
        draws = draws_file.read_bytes() if draws_file.exists() else None
        stats_file = Path(tmp) / "accuracy" / f"{cell.cell_id}.csv"
        statistics = stats_file.read_bytes() if stats_file.exists() else None
    return {"record": record, "log": log, "draws": draws, "statistics": statistics}


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
        _record_placement(store, cluster.placement(client, needs))
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


def _record_placement(store: RunStore, placement: dict) -> None:
    """The cluster's placement rule in the run's provenance (``execution.placement``)."""
    path = store.root / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    manifest.setdefault("execution", {})["placement"] = placement
    store.write_manifest(manifest)


def _store_result(store: RunStore, logs: Path, draws_dir: Path, cell: Cell, result: dict) -> None:
    """Draws, then log, then the record: the record is written last, so a cell without one is redone."""
    if result.get("draws") is not None:
        write_bytes_atomic(draws_dir / f"{cell.cell_id}.nc", result["draws"])
    if result.get("statistics") is not None:
        write_bytes_atomic(draws_dir.parent / "accuracy" / f"{cell.cell_id}.csv", result["statistics"])
    if result.get("log") is not None:
        write_bytes_atomic(logs / f"{cell.cell_id}.log", result["log"])
    store.add(result["record"])


# the least time one model's equivalence check gets: it builds every family's density (Stan programs
# included), which takes minutes on the large models, far more than a 60 s cell budget
EQUIVALENCE_BUDGET_S = 900.0


def equivalence_budget(plan: RunPlan) -> float:
    """Seconds one model's equivalence check may take: the cell budget, at least ``EQUIVALENCE_BUDGET_S``."""
    return max(plan.timeout_s, EQUIVALENCE_BUDGET_S)


def run_equivalence(plan: RunPlan, out_dir: Path, progress: bool = False, workers: int = 1) -> None:
    """Log-density equivalence of the run's models x backends into equivalence.csv: one isolated process
    per model (``python -m harness.equivalence``), ``workers`` of them side by side (the run's local
    worker count), so a model that fails, hangs or times out becomes rows with the error and the other
    models are still checked. Tables and logs are kept in the plan's model order. The table is written
    once complete (a killed run leaves none, and ``--resume`` makes it)."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from harness.equivalence import COLUMNS
    from harness.results import write_csv_atomic

    out_dir = Path(out_dir).resolve()
    log_path = out_dir / "logs" / "equivalence.log"
    with tempfile.TemporaryDirectory(prefix="ppl-harness-eq-") as tmp:
        env = worker_env(plan.settings.cores, "cpu")
        env["TMPDIR"] = tmp
        budget = equivalence_budget(plan)

        def check(model: str) -> pd.DataFrame:
            part = Path(tmp) / f"{model}.csv"
            outcome = run_isolated(python_command("-m", "harness.equivalence", "--models", model, "--backends",
                                                  ",".join(plan.backends), "--out", str(part)),
                                   timeout_s=budget, log=Path(tmp) / f"{model}.log", env=env, cwd=tmp)
            if part.exists():
                return pd.read_csv(part)
            why = (f"not checked: the equivalence check timed out after {budget:.0f} s" if outcome.timed_out
                   else f"equivalence check exited with code {outcome.returncode} (see logs/equivalence.log)")
            return pd.DataFrame([{"model": model, "a": "reference", "b": b, "status": "error", "check": "all",
                                  "error": why} for b in plan.backends], columns=COLUMNS)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            tables = list(tqdm(pool.map(check, plan.models), total=len(plan.models), disable=not progress,
                               unit="model", desc="equivalence", file=sys.stderr))
        with open(log_path, "w") as log:
            for model in plan.models:
                model_log = Path(tmp) / f"{model}.log"
                log.write(f"==== {model}\n" + (model_log.read_text(errors="replace") if model_log.exists() else ""))
    write_csv_atomic(out_dir / "equivalence.csv", pd.concat(tables, ignore_index=True) if tables else
                     pd.DataFrame(columns=COLUMNS))
