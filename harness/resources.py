"""What a process used: peak memory (host and accelerator) and CPU seconds over its session."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process or its largest reaped child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def peak_device_mb(backend) -> float | None:
    """The backend's optional ``peak_device_memory_mb()`` (accelerator memory, MiB); None without one."""
    from harness.backends import optional_hook

    hook = optional_hook(backend, "peak_device_memory_mb") if backend is not None else None
    if hook is None:
        return None
    try:
        value = hook()
    except Exception:  # a diagnostic must never fail the cell
        return None
    return None if value is None else float(value)


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every process of its session, reaped or alive.

    A cell's worker leads its own session (``harness.isolation``), so this counts threads and helper
    processes a backend starts (httpstan's pool, nutpie's threads). Linux ``/proc``; elsewhere only
    this process and its reaped children.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    session, total = os.getsid(0), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:  # fields[0] is field 3 of stat(5): state
            total += sum(int(v) for v in fields[11:15]) / tick  # utime, stime, cutime, cstime
    if total == 0.0:
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        total = sum(u.ru_utime + u.ru_stime for u in usage)
    return total
