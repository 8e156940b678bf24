"""Helpers shared by several test modules."""

from __future__ import annotations

import numpy as np


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
