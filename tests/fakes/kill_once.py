"""Fake backend that kills its Dask worker once per seed (see tests/fakes/worker_killer.py)."""

from harness.backends.base import Capabilities  # noqa: E402
from tests.fakes.worker_killer import compile, log_density, make, versions  # noqa: F401

CAPABILITIES = Capabilities(name="fake_kill_once", family="fake", requires=(), packages=(), extra="test", default=False)
sample = make("once")
