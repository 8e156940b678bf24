"""Dask clusters for the harness: an embedded ``LocalCluster`` sized to the machine, or an existing cluster.

Benchmark cells and SBC replicates are Dask tasks. Each benchmark task still runs its cell in its own
worker process (``harness.run.runner.run_cell_process``), so a Dask worker only waits on a child process; what
Dask adds is placement, retries when a worker dies, and running on many machines. SBC tasks
(``harness.sbc.run``) claim ``cores=1`` and pack one per single-threaded worker; each worker runs them
in one long-lived fit process that keeps its compiled models (``harness.sbc.child``).

Placement uses worker resources where the workers declare them:

* ``cores``: a timing cell claims ``settings.cores`` of them, so a benchmark never shares its cores
  with another task. The embedded cluster has ``cpu_count // cores`` workers, each offering
  ``cores=<cores>`` and pinned (CPU affinity) to its own cores.
* ``gpu``: a GPU cell claims ``gpu=1`` where the cluster offers GPUs; each embedded GPU worker sees one
  GPU (``CUDA_VISIBLE_DEVICES``).

A plain cluster (``dask worker ADDRESS``, dask-jobqueue, dask-kubernetes, a cloud service) declares no
custom resources. Then a task claims none and runs in one worker thread: one cell (or SBC task) per
worker thread, each capped at its own core budget by the thread environment of its process
(``harness.threads``). Declared resources still win: when any worker declares ``cores``, tasks claim
them and go to those workers. ``placement`` says which rule a run used; it is recorded in the run's
provenance (``execution.placement``).

Faults: a task whose Dask worker dies is run again on another worker; a task that kills its worker
twice fails with ``KilledWorker`` (``distributed.scheduler.allowed-failures`` = 1 on the embedded
cluster; start an external scheduler with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1`` for the
same rule) and the runner records it as ``crashed``.

Nothing listens beyond loopback on the embedded cluster, and it has no dashboard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

from distributed.diagnostics.plugin import WorkerPlugin

from harness.errors import HarnessInputError

ALLOWED_FAILURES = 1  # a task may lose one worker; the second death marks it as crashed
CONNECT_TIMEOUT_S = 30.0
WORKER_WAIT_S = 120.0


class ClusterError(HarnessInputError):
    """The cluster cannot run the plan (unreachable scheduler, no worker with the resources it needs)."""


def machine_cpus() -> list[int]:
    """CPUs this process may run on (its affinity where the OS has one)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return list(range(os.cpu_count() or 1))


def local_gpus() -> list[str]:
    """GPU ids visible here: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``'s list; [] without one."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(line for line in out.splitlines() if line.startswith("GPU "))]


def local_worker_count(cores: int, device: str = "cpu", workers: int | None = None) -> int:
    """Workers of the embedded cluster: ``workers`` if given, else one per ``cores`` CPUs (one per GPU on GPU runs)."""
    if workers is not None:
        if workers < 1:
            raise ClusterError(f"--workers must be a positive integer, got {workers}")
        return workers
    slots = max(1, len(machine_cpus()) // max(1, cores))
    if device == "gpu" and local_gpus():
        return max(1, min(slots, len(local_gpus())))
    return slots


_POOL_CPUS: list[int] = []  # in a pinned worker of the embedded cluster: the CPUs of all its workers


def pool_cpus() -> list[int]:
    """The CPUs this worker's cluster has on this machine: every worker's, in a pinned worker of the
    embedded cluster, else this process's own (an unpinned worker of a plain cluster)."""
    return list(_POOL_CPUS) or machine_cpus()


class PinWorker(WorkerPlugin):
    """Worker plugin of the embedded cluster: worker ``i`` runs on its own ``cores`` CPUs (and GPU ``i``).

    The affinity and ``CUDA_VISIBLE_DEVICES`` are the Dask worker process's own, so every cell process it
    starts inherits them. A restarted worker keeps its name, so it gets the same CPUs again.
    """

    name = "ppl-harness-pin"

    def __init__(self, cores: int, cpus: list[int], gpus: list[str]):
        self.cores, self.cpus, self.gpus = cores, cpus, gpus

    def setup(self, worker) -> None:
        global _POOL_CPUS
        try:
            index = int(worker.name)
        except (TypeError, ValueError):
            return
        _POOL_CPUS = list(self.cpus)
        mine = self.cpus[index * self.cores:(index + 1) * self.cores]
        if len(mine) == self.cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, mine)
        if self.gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = self.gpus[index % len(self.gpus)]


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, cores: int = 1, device: str = "cpu",
                workers: int | None = None, pin: bool = True, threads_per_worker: int = 1) -> Iterator:
    """A ``distributed.Client``: on the cluster at ``scheduler``, or on an embedded ``LocalCluster``.

    The embedded cluster has ``local_worker_count(cores, device, workers)`` single-threaded worker
    processes on 127.0.0.1 (no dashboard), each offering ``cores=<cores>`` (and ``gpu=1`` on GPU runs
    of a machine with GPUs). Both are closed on exit. ``threads_per_worker`` > 1 lets tasks that claim
    fewer cores (e.g. SBC replicates claiming ``cores=1``) pack onto one worker.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        try:
            yield client
        finally:
            client.close()
        return

    n = local_worker_count(cores, device, workers)
    gpus = local_gpus() if device == "gpu" else []
    resources = {"cores": cores, **({"gpu": 1} if gpus else {})}
    config = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.worker.daemon": False,  # tolerate libraries that start processes in the worker
        "distributed.admin.system-monitor.gil.enabled": False,
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=threads_per_worker, processes=True, host="127.0.0.1", scheduler_port=0,
            dashboard_address=None, worker_dashboard_address=None, silence_logs=logging.ERROR,
            resources=resources, memory_limit=0,
            # the scheduler's HTTP endpoint (no dashboard) on a free loopback port, not on :8787
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )
        client = Client(cluster, set_as_default=False)
        try:
            cpus = machine_cpus()
            if pin and (n * cores <= len(cpus) or gpus):
                client.register_plugin(PinWorker(cores, cpus if n * cores <= len(cpus) else [], gpus))
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.close()
            with contextlib.suppress(Exception):
                cluster.close()


def workers_info(client) -> dict[str, dict]:
    """Address -> worker info (with ``resources``) of every worker now connected."""
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:  # distributed before the n_workers argument
        info = client.scheduler_info()
    return dict(info.get("workers", {}))


def capacity(client, needs: dict[str, float]) -> int:
    """How many tasks that need ``needs`` the connected workers can run at once."""
    total = 0
    for worker in workers_info(client).values():
        have = worker.get("resources", {}) or {}
        slots = [int(have.get(k, 0) // v) for k, v in needs.items() if v > 0]
        total += min(slots) if slots else int(worker.get("nthreads", 1))
    return total


def wait_for_capacity(client, needs: dict[str, float], scheduler: str | None, timeout_s: float = WORKER_WAIT_S) -> int:
    """Wait until some worker can run a task that needs ``needs``; a clear error after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        slots = capacity(client, needs)
        if slots > 0:
            return slots
        if time.monotonic() > deadline:
            have = {addr: w.get("resources", {}) for addr, w in workers_info(client).items()}
            want = ",".join(f"{k}={v:g}" for k, v in needs.items())
            raise ClusterError(
                f"no worker of the Dask cluster at {scheduler or 'localhost'} offers the resources a cell needs "
                f"({want}); workers now: {have or 'none'}. Start workers with e.g. "
                f"`dask worker {scheduler or 'ADDRESS'} --nthreads 1 --resources \"{want}\"`"
            )
        time.sleep(0.5)


def declares(client, resource: str) -> bool:
    """Whether any connected worker declares the custom resource ``resource``."""
    return any(resource in (w.get("resources") or {}) for w in workers_info(client).values())


def placement(client, needs: dict[str, float]) -> dict:
    """How tasks are placed on this cluster, for the run's provenance."""
    workers = workers_info(client)
    threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
    if needs:
        want = ",".join(f"{k}={v:g}" for k, v in needs.items())
        return {"rule": "declared resources", "claims": want, "workers": len(workers),
                "note": f"each task claims {want} of the workers' declared resources"}
    return {"rule": "one task per worker thread", "workers": len(workers), "threads": threads,
            "note": (f"the workers declare no 'cores' resource: one task per worker thread ({threads} threads on "
                     f"{len(workers)} workers); each task's process caps its threads at its own core budget")}


def needs_for(settings, client=None) -> dict[str, float]:
    """Resources one benchmark cell claims: its cores, where the workers declare ``cores`` (else nothing:
    one task per worker thread); on GPU runs a GPU where the cluster offers any (and the cores too where
    those GPU workers offer them)."""
    cores = float(settings.cores)
    if client is not None and not declares(client, "cores") and not declares(client, "gpu"):
        return {}
    if settings.device == "gpu" and client is not None:
        gpu_workers = [w.get("resources") or {} for w in workers_info(client).values()
                       if (w.get("resources") or {}).get("gpu", 0) >= 1]
        if gpu_workers:
            return {"gpu": 1.0, **({"cores": cores} if any(r.get("cores", 0) >= cores for r in gpu_workers) else {})}
    return {"cores": cores}
