"""Fake backend whose library is not installed."""

NAME = "fake_missing"
FAMILY = "fake"
DEFAULT = False  # test fakes never join default runs or the conformance suite
REQUIRES = ("a_library_that_is_not_installed",)
DEVICES = ("cpu",)
