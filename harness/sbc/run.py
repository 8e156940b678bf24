"""Run an SBC plan: every missing replicate as a task on ``dask.distributed``, streamed to the store.

Tasks (``harness.sbc.plan.plan_tasks``) run on an embedded ``LocalCluster`` (``harness.cluster``: one
single-threaded worker per core, each claiming ``cores=1``, pinned to its core) or, with
``scheduler=``, on an existing cluster. Each Dask worker runs its tasks in one long-lived fit process
(``harness.sbc.child``) that keeps its compiled models, so a worker compiles a model x backend once
and reuses it for every replicate or batch it gets; Dask retries a task whose worker died.

Model x backend pairs run one after another, each on every worker, so a pair's wall time (compile
included) gives its replicates per second. Tasks are handed out as workers free up, PREFETCH per worker slot,
and every finished task is stored at once (``harness.sbc.store``): a run killed at any moment loses
only the tasks in flight (at most ``PREFETCH`` per worker), and ``--resume`` skips stored replicates. Seeds and batch boundaries depend
only on the plan, so results are identical whatever the number of workers.

A model that does not compile stops its pair: the queued tasks are not run, and one entry records the
error and the replicates it cost (``SBCStore.set_compile_failure``), not one failure per replicate.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections import deque
from pathlib import Path

from harness.sbc.manifest import store_manifest
from harness.sbc.plan import SBCPlan, plan_confirmation, plan_tasks, skip_reason, validate
from harness.sbc.store import SBCStore, combo_key
from harness.sbc.summary import write_outputs
from harness.sbc.worker import Task, failed_records
from harness.settings import SettingsError


def run_sbc(plan: SBCPlan, out_dir: Path, cores: int | None = None, progress: bool = True,
            command: list[str] | None = None, in_process: bool = False, log=None, figures: bool = True,
            confirm: bool = False, scheduler: str | None = None) -> Path:
    """Run every missing replicate of ``plan`` into ``out_dir``, then write tables and figures.

    cores: workers of the embedded cluster (default: one per CPU). scheduler: run on the Dask cluster
    at this address instead. in_process: run tasks in this process, one after another (tests; no
    timeout). ``log`` gets one line per finished model x backend. confirm: then rerun every flagged
    combination on fresh data sets (``harness.sbc.summary``).
    """
    validate(plan)
    if cores is not None and (not isinstance(cores, int) or cores < 1):
        raise SettingsError(f"cores must be a positive integer, got {cores}")
    if scheduler and in_process:
        raise SettingsError("in_process runs need no scheduler")
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    (Path(out_dir) / "logs").mkdir(parents=True, exist_ok=True)
    with _exclusive(Path(out_dir) / "logs" / "run.lock"), _terminate_as_interrupt():
        store = SBCStore(out_dir)  # repairs a torn last line: only once no other process writes
        store.write_plan(plan.to_dict())
        executor = Executor(plan, store.root / "logs", workers=cores, scheduler=scheduler, in_process=in_process)
        store_manifest(store, plan, command, executor.describe())
        session = time.perf_counter()
        with executor, _session_timing(store, executor, session):
            _run_stage(plan, store, executor, progress, log)
            if confirm:
                summary = write_outputs(store.root, figures=False)
                added = plan_confirmation(plan, summary)
                store.write_plan(plan.to_dict())
                for key, n in added.items():
                    log(f"sbc confirm {key.replace('__', ' x ')}: {n} fresh replicates (seed stream 1)")
                _run_stage(plan, SBCStore(out_dir, "confirm"), executor, progress, log, stage="confirm")
    write_outputs(store.root, figures=figures)
    return store.root


PREFETCH = 2  # tasks handed out per worker slot


class Executor:
    """Runs tasks and yields (task, records) as each finishes: in this process, or as Dask tasks.

    The Dask client (and the embedded cluster) starts with the first task, so a run with nothing left
    to do starts none. On exit every worker's fit process is stopped (killed after an error).
    """

    def __init__(self, plan: SBCPlan, log_dir: Path, workers: int | None = None, scheduler: str | None = None,
                 in_process: bool = False):
        self.plan, self.log_dir, self.workers, self.scheduler = plan, Path(log_dir), workers, scheduler
        self.in_process = in_process
        self.client = None
        self._started = False
        self.start_s = 0.0  # seconds the cluster took to start (harness.sbc.timing)
        self._stack = contextlib.ExitStack()
        self._token = uuid.uuid4().hex[:8]

    def describe(self) -> dict:
        if self.in_process:
            return {"scheduler": "in process"}
        if self.scheduler:
            return {"scheduler": self.scheduler}
        from harness.cluster import local_worker_count

        return {"scheduler": "embedded LocalCluster",
                "workers": local_worker_count(1, self.plan.settings.device, self.workers)}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, err, tb) -> None:
        try:
            if self.client is not None and (self.scheduler or kind is None):
                from harness.sbc import child

                with contextlib.suppress(Exception):  # every replicate is stored: nothing to wait for
                    self.client.run(child.stop, kill=True, on_error="ignore")
        finally:
            self._stack.close()  # an embedded cluster takes its workers down; their fit processes follow

    def _start(self) -> None:
        started = time.perf_counter()
        try:
            self._start_cluster()
        finally:
            self.start_s = time.perf_counter() - started

    def _start_cluster(self) -> None:
        from harness import cluster

        self.client = self._stack.enter_context(cluster.dask_client(
            self.scheduler, cores=1, device=self.plan.settings.device, workers=self.workers))
        if self.scheduler:
            cluster.wait_for_capacity(self.client, {}, self.scheduler)  # any worker at all
        self.needs = cluster.needs_for(self.plan.settings, self.client)
        self.slots = cluster.wait_for_capacity(self.client, self.needs, self.scheduler)
        self._record_placement(cluster.placement(self.client, self.needs))

    def _record_placement(self, placement: dict) -> None:
        """The cluster's placement rule in the run's provenance (``manifest.json``: ``execution.placement``)."""
        import json

        from harness.results import write_json_atomic

        path = self.log_dir.parent / "manifest.json"
        manifest = json.loads(path.read_text()) if path.is_file() else {}
        manifest.setdefault("execution", {})["placement"] = placement
        write_json_atomic(path, manifest)

    def run(self, queue: deque[Task]):
        """Yield (task, records) for the tasks of ``queue`` as they finish; tasks the caller removes
        from ``queue`` meanwhile are not run."""
        if self.in_process:
            from harness.sbc import worker

            if not self._started:
                worker.clear_cache()  # like a fresh fit process: compiled models of earlier runs are not reused
                self._started = True
            while queue:
                task = queue.popleft()
                yield task, worker.run_task(task)
            return
        if self.client is None:
            self._start()
        yield from self._run_dask(queue)

    def _run_dask(self, queue: deque[Task]):
        from distributed import KilledWorker, as_completed

        from harness import cluster
        from harness.sbc import child

        client, plan = self.client, self.plan
        assert client is not None  # started by _start()
        running: dict = {}
        finished = as_completed(loop=client.loop)
        log_dir = str(self.log_dir.resolve())

        def top_up(slots: int) -> None:
            # PREFETCH tasks per free slot: a worker finds its next task queued when it finishes one,
            # instead of idling through the driver's round trip (a killed run loses the queued ones too)
            while queue and len(running) < max(1, slots) * PREFETCH:
                task = queue.popleft()
                key = (f"sbc-{task.model}-{task.backend}-{task.stream}-{task.replicates[0]}-{self._token}")
                future = client.submit(child.run_task, task, plan.timeout_s, plan.settings.device, log_dir, key=key,
                                       resources=self.needs, pure=False)
                running[future.key] = (future, task)
                finished.add(future)

        try:
            top_up(self.slots)
            for future in finished:
                _, task = running.pop(future.key)
                try:
                    records = future.result()
                except KilledWorker as err:
                    last = getattr(getattr(err, "last_worker", None), "address", "?")
                    records = failed_records(task, f"KilledWorker: the Dask worker running this task died "
                                                   f"{cluster.ALLOWED_FAILURES + 1} times (last: {last})")
                except Exception as err:  # the task itself failed (e.g. the harness missing on a remote worker)
                    if type(err).__name__ == "CancelledError":
                        raise RuntimeError(f"the Dask scheduler cancelled SBC task {future.key}; "
                                           "continue with --resume") from err
                    records = failed_records(task, f"the Dask task failed: {type(err).__name__}: {err}")
                future.release()
                yield task, records
                if queue:
                    top_up(cluster.capacity(client, self.needs))
        finally:
            if running:  # interrupted: tasks in flight are not waited for
                with contextlib.suppress(Exception):
                    client.cancel([f for f, _ in running.values()])


def _run_stage(plan: SBCPlan, store: SBCStore, executor: Executor, progress: bool, log,
               stage: str = "screen") -> None:
    from tqdm import tqdm

    stored = store.records()
    for model in plan.models:
        for backend in plan.backends:
            if stage == "screen" and (why := skip_reason(plan, model, backend)):
                log(f"sbc {model} x {backend}: {why}")
                continue
            done = {r for (m, b, r) in stored if m == model and b == backend}
            tasks = plan_tasks(plan, model, backend, done, stage=stage)
            if not tasks:
                continue
            store.set_compile_failure(model, backend, None)  # tried again in this session
            queue = deque(tasks)
            todo = sum(1 for t in tasks for r in t.replicates if r not in done)
            bar = tqdm(total=todo, disable=not progress, unit="rep", dynamic_ncols=True, file=sys.stderr,
                       desc=f"{model} {backend}" + (" (confirm)" if stage == "confirm" else ""))
            clock = time.perf_counter()
            failure = None
            for _task, records in executor.run(queue):
                new = [r for r in records if r["replicate"] not in done]
                if any(r.get("compile_failed") for r in new):
                    dropped = list(queue)  # the model does not compile: the rest of the pair is not run
                    queue.clear()
                    lost = len(new) + sum(1 for t in dropped for r in t.replicates if r not in done)
                    failure = failure or {"error": new[0]["error"], "replicates": 0}
                    failure["replicates"] += lost
                    bar.update(lost)
                    continue
                done.update(r["replicate"] for r in new)
                writing = time.perf_counter()
                store.append(new)
                now = time.perf_counter()
                store.add_timing(model, backend, now - clock, len(new), new, write_s=now - writing)
                clock = time.perf_counter()
                bar.update(len(new))
            bar.close()
            if failure is not None:
                store.set_compile_failure(model, backend, failure)
            stored = store.records()
            log(_progress_line(store, model, backend, failure) + (" (confirmation)" if stage == "confirm" else ""))


def _progress_line(store: SBCStore, model: str, backend: str, failure: dict | None = None) -> str:
    recs = [r for (m, b, _), r in store.records().items() if m == model and b == backend]
    ok = sum(r["status"] == "ok" for r in recs)
    t = store.timing().get(combo_key(model, backend), {})
    rate = t.get("replicates", 0) / t["wall_s"] if t.get("wall_s") else float("nan")
    line = f"sbc {model} x {backend}: {len(recs)} replicates, {ok} ok, {rate:.2f} replicates/s"
    if failure:
        line += (f"; compile failed ({failure['replicates']} replicates not run): "
                 + failure["error"].split("\n")[0][:300])
    return line


@contextlib.contextmanager
def _session_timing(store: SBCStore, executor: Executor, started: float):
    """Record the session's wall time and cluster start in ``timing.json``, also when it is interrupted."""
    try:
        yield
    finally:
        if executor.client is not None or executor.in_process:
            store.add_session(time.perf_counter() - started, executor.start_s, executor.describe().get("workers"))


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """One process per run directory: a second one (e.g. --resume while it still runs) is refused."""
    import fcntl

    with open(lock_path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SettingsError(f"{lock_path.parent.parent} is in use by another SBC process") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM stops the run like Ctrl-C: fit processes are killed, stored replicates stay."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
