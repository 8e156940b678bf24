"""Fake backend that kills every Dask worker that runs it (see tests/fakes/worker_killer.py)."""

from tests.fakes.worker_killer import DEFAULT, DEVICES, FAMILY, REQUIRES, compile, log_density, make, versions  # noqa: F401

NAME = "fake_kill_always"
sample = make("always")
