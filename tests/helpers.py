"""Helpers shared by several test modules."""

from __future__ import annotations

import numpy as np
import pytest


def finite_numbers(value) -> bool:
    """Whether a closure's result (arrays, tensors, tuples of them) holds numbers, all finite."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(finite_numbers(v) for v in value)
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    return array.size > 0 and bool(np.all(np.isfinite(array)))


def table_rows(markdown: str) -> list[list[str]]:
    """The rows (header rows included, alignment rows left out) of every pipe table in ``markdown``,
    each as its stripped cells: tables are compared by content, not by their padding."""
    rows = []
    for line in markdown.splitlines():
        line = line.strip()
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [c.strip() for c in line[1:-1].split("|")]
        if all(c and set(c) <= {"-", ":"} for c in cells):
            continue
        rows.append(cells)
    return rows


def has_row(markdown: str, *cells: str) -> bool:
    """Whether a pipe table in ``markdown`` has a row (or header) that starts with ``cells``."""
    return any(row[:len(cells)] == list(cells) for row in table_rows(markdown))


def program_marks(model: str, backend: str) -> tuple:
    """pytest marks of a test case that builds ``model`` with ``backend``.

    A backend whose ``CAPABILITIES.builds_program`` is true (Stan's C++) costs about a minute per model
    on a cold cache, 80 builds for the whole catalogue on two backends: more than CI's time. Every run
    builds the models of the regression gate's quick suite; the others are ``slow`` (``nox -s tests
    -- -m slow``, or ``nox -s equivalence`` for the whole catalogue). ``nox -s bench`` checks the
    equivalence of its own models, Stan's builds included, before it times them.
    """
    from harness.backends import capabilities
    from harness.compare.quick import QUICK_SUITE

    if not capabilities(backend).builds_program or model in QUICK_SUITE["models"]:
        return ()
    return (pytest.mark.slow,)
