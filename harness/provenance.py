"""Provenance of a run: what ran where, so any number can be traced and compared fairly."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

# the harness's own stack; each backend module adds its libraries (its PACKAGES)
CORE_PACKAGES = ("ppl-harness", "numpy", "scipy", "pandas", "pyarrow", "xarray", "arviz", "arviz-base", "arviz-stats",
                 "dask", "distributed", "h5netcdf")


def package_versions() -> dict[str, str]:
    """{distribution: version} of the harness's stack and every registered backend's libraries."""
    from harness.backends import packages

    out = {}
    for name in dict.fromkeys([*CORE_PACKAGES, *packages()]):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_model() -> str | None:
    """Names of NVIDIA GPUs from nvidia-smi, or None when there is none."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def git_state(root: Path | None = None) -> dict:
    root = root or Path(__file__).resolve().parent.parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
        return {"commit": head.stdout.strip(), "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def machine() -> dict:
    """Facts of this machine that make timings comparable (or not)."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": gpu_model(),
    }


def collect(settings: dict, command: list[str] | None = None) -> dict:
    """The manifest of a run: machine, packages, thread settings, git state, date, settings."""
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command if command is not None else sys.argv,
        "machine": machine(),
        "packages": package_versions(),
        "git": git_state(),
        "settings": settings,
    }
