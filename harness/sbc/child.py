"""The fit process behind each Dask worker of an SBC run: compiled models kept, a timeout per task.

SBC tasks run on ``dask.distributed`` (``harness.sbc.run``); Dask places them, retries a task whose
worker died and streams results back. What Dask does not do is kill a task that hangs, cap a library's
threads before it is imported, or take a fit's helper processes (httpstan's process pool) down with it.
So each Dask worker runs its tasks in one long-lived child process (``python -m harness.sbc.child``):

* started with ``harness.threads.worker_env(1, device)`` (BLAS, XLA, torch, Stan: one thread each) and
  in its own session, so one ``killpg`` takes its helpers along; its output goes to a log file;
* it starts on every CPU of the cluster's workers on this machine and goes back to its worker's core
  once its programs are compiled; a compile that no cache answers waits its turn
  (``harness.compile_turn``), so the workers compile once, one at a time on every core, not all at once
  on one core each;
* it lives as long as its Dask worker, so its compiled-model cache (``harness.sbc.worker``) serves every
  task the worker gets: a worker compiles a model x backend once;
* a task that runs past its timeout gets the process killed (and a fresh one started for the next
  task); its replicates become "failed" records, as do those of a process that dies;
* it watches its parent and kills its own process group when the Dask worker is gone.

This module imports nothing heavy: a Dask worker imports it to start the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from harness.isolation import kill_group, start_isolated

_PROCESS = None  # this Dask worker's FitProcess
_DEVICE = None  # the device its environment was made for
_LOCK = threading.Lock()


def _watch_parent(parent: int) -> None:
    """Kill this process group once the parent (the Dask worker) is gone."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            try:
                os.killpg(0, signal.SIGKILL)
            finally:
                os._exit(137)


def main(argv: list[str]) -> None:
    """Serve tasks over the connection on file descriptor ``argv[0]``: ("ok", records) or ("error", text)."""
    from multiprocessing.connection import Connection

    from harness.compile_turn import start_wide

    start_wide()  # compiles get every CPU of the cluster here; fits go back to this worker's own core
    conn = Connection(int(argv[0]))
    threading.Thread(target=_watch_parent, args=(int(argv[1]),), daemon=True).start()
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
    # leave without atexit handlers: library pools (httpstan's) can block an orderly exit; the parent
    # kills this process group afterwards, helpers included
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class FitProcess:
    """One child process serving tasks; ``run`` sends a task and waits for its records or the timeout."""

    def __init__(self, env: dict, log_path: str | None):
        import socket
        from multiprocessing.connection import Connection

        self.env, self.log_path = env, log_path
        ours, theirs = socket.socketpair()
        log: Any = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            self.proc = start_isolated(
                [sys.executable, "-m", "harness.sbc.child", str(theirs.fileno()), str(os.getpid())],
                env=env, stdin=subprocess.DEVNULL, stdout=log, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
            if log_path:
                log.close()
        self.conn = Connection(ours.detach())

    def run(self, task, timeout_s: float) -> tuple[str, Any]:
        """("ok", records), ("error", text), ("timeout", text) or ("died", text); kills the process unless "ok"/"error"."""
        try:
            self.conn.send(task)
            ready = self.conn.poll(timeout_s)
        except (OSError, EOFError):
            ready = True  # the process is gone: recv raises below
        if not ready:
            self.kill()
            return "timeout", f"timeout: no result after {timeout_s:.0f} s; fit process killed"
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            self.kill()
            return "died", f"fit process died (exit code {code})"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the process group (the process and anything it started)."""
        kill_group(self.proc)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()

    def close(self, wait_s: float = 5.0) -> None:
        """Ask the process to leave, wait up to ``wait_s``, then kill what is left of its group."""
        try:
            self.conn.send(None)
            self.proc.wait(timeout=wait_s)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _log_path(log_dir: str | None) -> str:
    """``<log_dir>/worker-<name>.log`` where this worker sees the run's log folder, else a local temp file."""
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        name = str(os.getpid())
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    folder = Path(log_dir) if log_dir and Path(log_dir).is_dir() else Path(tempfile.gettempdir()) / "ppl-harness-sbc-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"worker-{name}.log")


def run_task(task, timeout_s: float, device: str = "cpu", log_dir: str | None = None) -> list[dict]:
    """The Dask task of one SBC task: its records, from this worker's fit process (started when needed)."""
    global _PROCESS, _DEVICE
    from harness.sbc.worker import failed_records

    with _LOCK:  # one task at a time per worker process (SBC workers are single-threaded anyway)
        if _PROCESS is not None and (_DEVICE != device or not _PROCESS.alive()):
            _PROCESS.kill()
            _PROCESS = None
        if _PROCESS is None:
            _PROCESS, _DEVICE = FitProcess(_env(device), _log_path(log_dir)), device
        kind, payload = _PROCESS.run(task, timeout_s)
        if kind in ("timeout", "died"):
            _PROCESS = None
        return payload if kind == "ok" else failed_records(task, payload)


def _env(device: str) -> dict:
    """One thread per library, the harness importable whatever the child's working directory, and
    compiles taken in turn on every CPU of the cluster's workers here (``harness.compile_turn``)."""
    import harness
    from harness.cluster import pool_cpus
    from harness.compile_turn import COMPILE_CPUS_VAR
    from harness.threads import worker_env

    env = worker_env(1, device)
    env[COMPILE_CPUS_VAR] = ",".join(map(str, pool_cpus()))
    root = str(Path(harness.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def stop(kill: bool = False) -> bool:
    """Stop this worker's fit process (run on every worker at the end of an SBC run); True if there was one."""
    global _PROCESS
    process, _PROCESS = _PROCESS, None
    if process is None:
        return False
    if kill:
        process.kill()
    else:
        process.close()
    return True


if __name__ == "__main__":
    main(sys.argv[1:])
