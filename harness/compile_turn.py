"""One compile at a time on a machine, on all of its workers' CPUs (SBC's fit processes).

Every worker of an SBC run compiles the same programs at the same moment, each pinned to its own core
(``harness.cluster``). ``compile_turn`` lets one of them compile with every core while the others wait;
they then find the programs in the persistent compile caches.

XLA sizes its compile thread pool by the CPUs a process may use when it first compiles, so a fit
process starts on every CPU (``start_wide``, before it imports JAX) and goes back to its own core
(``go_home``) once its programs are compiled, before it fits anything.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

COMPILE_CPUS_VAR = "PPL_HARNESS_COMPILE_CPUS"
_HOME: set[int] = set()  # the CPUs this process fits on, once ``start_wide`` has widened it


def compile_cpus() -> list[int]:
    """The CPUs named by ``$PPL_HARNESS_COMPILE_CPUS`` (e.g. "0,1"); [] when it is unset or unreadable."""
    try:
        return sorted({int(c) for c in os.environ.get(COMPILE_CPUS_VAR, "").split(",") if c.strip()})
    except ValueError:
        return []


def _set_affinity(cpus) -> None:
    """Every thread of this process on ``cpus`` (Linux sets affinity per thread; pools exist already)."""
    tasks = Path("/proc/self/task")
    tids = [int(t) for t in os.listdir(tasks)] if tasks.is_dir() else [0]
    for tid in tids:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile, or a CPU not allowed here
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def compile_turn() -> Iterator[None]:
    """Compile alone, on every CPU of ``compile_cpus()``, then go back to this process's own cores.

    SBC's fit processes set ``$PPL_HARNESS_COMPILE_CPUS`` (``harness.sbc.child``): each worker of a run
    compiles the same programs at the same moment, each pinned to its own core. Taking turns on a
    machine-wide lock (``$PPL_HARNESS_CACHE/compile.lock``) lets the first one compile with the whole
    machine (XLA's code generation runs on several threads) while the others wait, and they then find
    the programs in the persistent compile caches. Where the variable is unset (benchmark cells, whose
    compile time is a measured phase on the cell's own cores) this does nothing.
    """
    cpus = compile_cpus()
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    import fcntl

    from harness.paths import cache_root

    cache_root().mkdir(parents=True, exist_ok=True)
    own = os.sched_getaffinity(0)
    with open(cache_root() / "compile.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the OS if this process dies
        try:
            _set_affinity(cpus)
            yield
        finally:
            _set_affinity(own)
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_wide() -> None:
    """Remember this process's CPUs as its home, then run on every CPU of ``compile_cpus()`` (call it
    before any library starts a thread pool; does nothing where the variable is unset)."""
    cpus = compile_cpus()
    if cpus and hasattr(os, "sched_setaffinity"):
        _HOME.clear()
        _HOME.update(os.sched_getaffinity(0))
        _set_affinity(cpus)


def go_home() -> None:
    """Every thread back on the CPUs ``start_wide`` found (nothing if it widened nothing)."""
    if _HOME:
        _set_affinity(_HOME)
