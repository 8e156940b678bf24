"""Errors that mean bad user input: the CLI prints them as one clear line and exits with status 2."""


class HarnessInputError(ValueError):
    """Base class: unknown names, invalid settings, unreadable results files."""
