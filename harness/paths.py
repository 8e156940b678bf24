"""Where the harness keeps things: the cache root and the UTC stamps that name run directories."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def cache_root() -> Path:
    """``$PPL_HARNESS_CACHE``, default ``~/.cache/ppl-harness``: compile caches, venvs, CmdStan, locks."""
    return Path(os.environ.get("PPL_HARNESS_CACHE") or Path.home() / ".cache" / "ppl-harness")


def utc_stamp() -> str:
    """The current UTC time as ``20261130T122326Z``: names of run directories, sortable."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
