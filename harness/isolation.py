"""Child processes that cannot outlive their purpose: one rule for every process the harness starts.

A child starts in its own session (so one ``killpg`` takes its helpers along: httpstan's pool, nutpie's
threads, a hung compiler), optionally behind a guard that makes it die with the process that started
it (Linux ``PR_SET_PDEATHSIG``, then ``exec``): a killed runner or Dask worker leaves nothing running.
``run_isolated`` runs one to completion with a timeout; ``start_isolated``/``kill_group`` serve the
long-lived fit processes of SBC.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# The child dies with the process that started it (Linux PR_SET_PDEATHSIG, then exec): a killed runner or
# Dask worker leaves no cell running on, and a retried or resumed cell never runs twice at once.
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
class Outcome:
    """How an isolated child ended: its exit code (None when it was killed for the timeout)."""

    returncode: int | None
    timed_out: bool
    seconds: float


def python_command(*args: str, guard: bool = True) -> list[str]:
    """``python <args>`` with this interpreter, behind the parent-death guard when ``guard``."""
    if guard:
        return [sys.executable, "-c", _GUARD, str(os.getpid()), *args]
    return [sys.executable, *args]


def start_isolated(cmd: list[str], *, stdout: IO | int | None = None, env: dict | None = None,
                   cwd: str | Path | None = None, **popen: Any) -> subprocess.Popen:
    """Start ``cmd`` in its own session (output to ``stdout``, stderr with it)."""
    return subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT if stdout is not None else None, env=env,
                            cwd=cwd, start_new_session=True, **popen)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's session (the child and everything it started); never raises."""
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def run_isolated(cmd: list[str], *, timeout_s: float, log: str | Path | IO | None = None, env: dict | None = None,
                 cwd: str | Path | None = None) -> Outcome:
    """Run ``cmd`` to completion in its own session; kill the whole session after ``timeout_s``.

    ``log``: a path (written) or an open file that gets stdout and stderr. Whatever the child left
    running (helper processes) is killed on the way out, whether it finished, crashed or timed out.
    """
    start = time.perf_counter()
    handle: IO | None = None
    if isinstance(log, (str, Path)):
        handle = open(log, "w")  # noqa: SIM115 - closed below
        out: IO | int | None = handle
    else:
        out = log if log is not None else subprocess.DEVNULL
    try:
        proc = start_isolated(cmd, stdout=out, env=env, cwd=cwd)
        try:
            proc.wait(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait()
            timed_out = True
        finally:
            kill_group(proc)  # leftovers of a child that finished
    finally:
        if handle is not None:
            handle.close()
    return Outcome(None if timed_out else proc.returncode, timed_out, time.perf_counter() - start)
