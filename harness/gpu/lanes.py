"""Jobs of gpu-check on two lanes under one time budget.

The ``gpu`` lane runs one job at a time (one accelerator: the GPU test suite, then every GPU cell, in
part order). The ``cpu`` lane runs the CPU side of each part on ``cpu_lanes`` worker threads at once;
every job is a separate process capped at the core budget (``--cores``), so on a 16-core machine
a CPU cell and a GPU cell never share a core. ``--cpu-lanes 1`` and ``--serial`` trade time for
quieter measurements.

Each part has a deadline (cumulative shares of the budget, ``CheckPlan.deadlines``). A job gets
``min(its cap, deadline - now)`` seconds; a job whose part has less than ``min_start_s`` left is not
started and is recorded as ``skipped`` with the reason. So the command ends within the budget and
every planned measurement has a record.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Job:
    """One unit of work. ``run(timeout_s) -> str`` does it and stores its records (returns a log line);
    ``skip(status, reason)`` stores the records of a job that did not run (budget, internal error)."""

    lane: str  # "gpu" or "cpu"
    part: str
    label: str
    cap_s: float
    run: Callable[[float], str]
    skip: Callable[[str, str], None]
    backend: str = ""


def preskip(job: Job, reason: str) -> Job:
    """The same job, recorded as ``skipped`` with ``reason`` instead of being run."""
    def run(timeout_s: float) -> str:
        job.skip("skipped", reason)
        return f"skipped: {reason[:100]}"
    return Job(job.lane, job.part, job.label, job.cap_s, run, job.skip, job.backend)


def run_lanes(jobs: list[Job], deadlines: dict[str, float], cpu_lanes: int = 1, min_start_s: float = 5.0,
              log: Callable[[str], None] = print, serial: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
    """Run every job (in list order within a lane); returns when all have a record."""
    start = clock()

    def do(job: Job) -> None:
        left = deadlines[job.part] - clock()
        if left < min_start_s:
            reason = (f"gpu-check budget: the {job.part} part's time was used up before this job started "
                      f"({max(left, 0):.0f} s left); raise --budget-s")
            job.skip("skipped", reason)
            log(f"[{clock() - start:6.0f} s] {job.part} {job.label}: skipped (budget)")
            return
        timeout = min(job.cap_s, left)
        try:
            line = job.run(timeout)
        except Exception as err:  # gpu-check's own error: recorded, the rest goes on
            job.skip("failed", f"gpu-check internal error: {type(err).__name__}: {err}\n{traceback.format_exc()[-2000:]}")
            line = f"failed ({type(err).__name__}: {err})"
        log(f"[{clock() - start:6.0f} s] {job.part} {job.label}: {line}")

    if serial:
        for job in jobs:
            do(job)
        return
    queues: dict[str, queue.Queue] = {"gpu": queue.Queue(), "cpu": queue.Queue()}
    for job in jobs:
        queues[job.lane].put(job)

    def worker(q: queue.Queue) -> None:
        while True:
            try:
                job = q.get_nowait()
            except queue.Empty:
                return
            do(job)

    threads = [threading.Thread(target=worker, args=(queues["gpu"],), daemon=True)]
    threads += [threading.Thread(target=worker, args=(queues["cpu"],), daemon=True) for _ in range(max(1, cpu_lanes))]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():  # join with a timeout so Ctrl-C reaches the main thread
            t.join(timeout=0.5)
