"""Worker processes for SBC tasks: thread-capped, each task under a timeout, crashes recovered.

Each worker is a fresh interpreter (multiprocessing "spawn": nothing of the parent, JAX included, is
inherited) that sets its environment from ``harness.threads.worker_env(1, device)`` before importing
anything heavy, so BLAS, XLA and torch use one thread each and ``cores`` workers use ``cores``
cores. Workers live for the whole run and keep their compiled model between tasks.

A task that runs past ``timeout_s`` gets its worker killed (with the worker's process group, so
e.g. httpstan's helpers die too) and restarted; its replicates become "failed" records, as do those
of a worker that dies. This module imports nothing heavy: a spawned worker imports it first.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable

DEFAULT_TIMEOUT_S = 600.0


def _serve(conn, env: dict, log_path: str | None = None) -> None:
    """Worker main loop: receive a task, send back ("ok", records) or ("error", text); None stops.

    The worker's stdout and stderr (library chatter such as PyStan's "Building...") go to ``log_path``.
    """
    os.environ.update(env)
    if log_path:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    try:
        os.setpgrp()  # own process group: a kill takes the worker's children along; Ctrl-C goes to the parent
    except OSError:
        pass
    from harness.sbc.worker import run_task

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        try:
            conn.send(("ok", run_task(task)))
        except BaseException as err:  # noqa: BLE001 - reported to the parent as the task's failure
            conn.send(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc()[-2500:]}"))
    # leave without atexit handlers: library pools (httpstan's) can block an orderly exit; the
    # parent kills this worker's process group afterwards, helpers included
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Worker:
    def __init__(self, ctx, env: dict, log_path: str | None):
        self.conn, child = ctx.Pipe()
        # not a daemon: httpstan (Stan) starts a process pool inside the worker
        self.process = ctx.Process(target=_serve, args=(child, env, log_path), daemon=False)
        self.process.start()
        child.close()
        self.task = None
        self.deadline = float("inf")

    def kill(self) -> None:
        """SIGKILL the worker's process group (the worker and anything it started)."""
        pid = self.process.pid
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), self.process.kill):
            try:
                kill()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self.process.join(timeout=10)
        self.conn.close()

    def ask_to_stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass


FailureFn = Callable[[object, str], list]


class WorkerPool:
    """``workers`` spawned worker processes with environment ``env``, output to ``log_dir``/worker-<i>.log.

    ``run(tasks, on_done, failed)`` hands tasks to idle workers and calls ``on_done(task, records)``
    in the parent as each finishes; a task that raised, timed out or lost its worker gets
    ``on_done(task, failed(task, reason))``.
    """

    def __init__(self, workers: int, env: dict, timeout_s: float = DEFAULT_TIMEOUT_S, log_dir=None):
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self.env = env
        self.timeout_s = timeout_s
        self.log_dir = log_dir
        if log_dir is not None:
            os.makedirs(log_dir, exist_ok=True)
        self.workers = [_Worker(self._ctx, env, self._log(i)) for i in range(workers)]

    def _log(self, i: int) -> str | None:
        return None if self.log_dir is None else os.path.join(str(self.log_dir), f"worker-{i}.log")

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        i = self.workers.index(worker)
        self.workers[i] = _Worker(self._ctx, self.env, self._log(i))

    def run(self, tasks, on_done: Callable[[object, list], None], failed: FailureFn) -> None:
        from multiprocessing.connection import wait

        pending = deque(tasks)
        while True:
            for w in self.workers:
                if w.task is None and pending:
                    w.task = pending.popleft()
                    w.deadline = time.monotonic() + self.timeout_s
                    w.conn.send(w.task)
            busy = [w for w in self.workers if w.task is not None]
            if not busy:
                return
            wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_s)
            for w in busy:
                task = w.task
                if w.conn in ready:
                    try:
                        kind, payload = w.conn.recv()
                    except (EOFError, OSError):
                        w.process.join(timeout=5)
                        code = w.process.exitcode
                        self._replace(w)
                        on_done(task, failed(task, f"worker process died (exit code {code})"))
                        continue
                    w.task = None
                    on_done(task, payload if kind == "ok" else failed(task, payload))
                elif time.monotonic() >= w.deadline:
                    self._replace(w)
                    on_done(task, failed(task, f"timeout: no result after {self.timeout_s:.0f} s; worker killed"))

    def close(self, kill: bool = False) -> None:
        """Stop every worker (at once with ``kill``, else after it exits or 5 s); never leaves one behind."""
        workers, self.workers = self.workers, []
        try:
            if not kill:
                for w in workers:
                    w.ask_to_stop()
                deadline = time.monotonic() + 5.0
                for w in workers:
                    w.process.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for w in workers:
                w.kill()  # also reaps what a cleanly exited worker left in its process group
