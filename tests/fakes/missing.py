"""Fake backend whose library is not installed."""

from harness.backends.base import Capabilities  # noqa: E402

CAPABILITIES = Capabilities(name="fake_missing", family="fake", requires=("a_library_that_is_not_installed",), packages=(), extra="test", default=False)
