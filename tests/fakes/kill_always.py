"""Fake backend that kills every Dask worker that runs it (see tests/fakes/worker_killer.py)."""

from harness.backends.base import Capabilities  # noqa: E402
from tests.fakes.worker_killer import compile, log_density, make, versions  # noqa: F401

CAPABILITIES = Capabilities(name="fake_kill_always", family="fake", requires=(), packages=(), extra="test", default=False)
sample = make("always")
