"""Where the harness keeps things: the results root, the reference root, the cache root, run stamps.

One place for each: every command's default output directory is built from ``results_root()``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]  # the repository (harness/ and results/ live here)


def results_root() -> Path:
    """``results`` of the working directory: runs, SBC directories, reports and perf data land here."""
    return Path("results")


def runs_root() -> Path:
    return results_root() / "runs"


def sbc_root() -> Path:
    return results_root() / "sbc"


def reference_root() -> Path:
    """``$PPL_HARNESS_REFERENCES`` or ``results/references`` of this checkout (not the working directory)."""
    env = os.environ.get("PPL_HARNESS_REFERENCES")
    return Path(env) if env else CHECKOUT / "results" / "references"


def cache_root() -> Path:
    """``$PPL_HARNESS_CACHE``, default ``~/.cache/ppl-harness``: compile caches, venvs, CmdStan, locks."""
    return Path(os.environ.get("PPL_HARNESS_CACHE") or Path.home() / ".cache" / "ppl-harness")


def utc_stamp() -> str:
    """The current UTC time as ``20261130T122326Z``: names of run directories, sortable."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def stamped(base: Path, prefix: str = "") -> Path:
    """``base/<prefix><UTC stamp>``: a new run directory's default path."""
    return base / f"{prefix}{utc_stamp()}"
