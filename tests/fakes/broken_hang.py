"""Fake backend that fails with mode 'hang' (see tests/fakes/broken.py)."""

from tests.fakes.broken import DEFAULT, DEVICES, FAMILY, REQUIRES, log_density, make, versions  # noqa: F401

NAME = "fake_hang"
compile, sample = make("hang")
