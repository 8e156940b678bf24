"""Fake backend that fails with mode 'nan' (see tests/fakes/broken.py)."""

from harness.backends.base import Capabilities  # noqa: E402
from tests.fakes.broken import log_density, make, versions  # noqa: F401

CAPABILITIES = Capabilities(name="fake_nan", family="fake", requires=(), packages=(), extra="test", default=False)
compile, sample = make("nan")
