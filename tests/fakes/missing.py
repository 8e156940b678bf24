"""Fake backend whose library is not installed."""

NAME = "fake_missing"
FAMILY = "fake"
REQUIRES = ("a_library_that_is_not_installed",)
DEVICES = ("cpu",)
