"""Fake backend that kills its Dask worker once per seed (see tests/fakes/worker_killer.py)."""

from tests.fakes.worker_killer import DEFAULT, DEVICES, FAMILY, REQUIRES, compile, log_density, make, versions  # noqa: F401

NAME = "fake_kill_once"
sample = make("once")
