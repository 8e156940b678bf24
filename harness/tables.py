"""Cells and tables: the one number formatter of every table (``fmt`` and its unit-aware kin) and the
Markdown table writer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def fmt(value: object, spec: str = "{:,.0f}") -> str:
    """A value for a table: ``spec.format(value)``; "-" for None, NaN, pandas' NA or what the spec cannot
    format; "yes"/"no" for booleans. The one cell formatter of every table the harness prints."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes; the rest is handled below
    except (TypeError, ValueError):
        try:
            return spec.format(value)
        except (TypeError, ValueError):
            return "-"
    if math.isnan(number):
        return "-"
    return spec.format(value if isinstance(value, (int, np.integer)) else number)


def fmt_unit(value, unit: str = "") -> str:
    """A measured value with its unit: seconds ("0.123 s", "1,234 s"), microseconds from seconds
    ("25.1 µs"), a rate ("12,345/s"), or a plain number ("1,234", "0.1235"); "-" when missing."""
    if value is None or value is pd.NA:
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    if not math.isfinite(number):
        return "-"
    if unit == "s":
        return f"{number:.3g} s" if number < 100 else f"{number:,.0f} s"
    if unit == "us":
        return f"{number * 1e6:.3g} µs"
    if unit == "1/s":
        return f"{number:,.0f}/s" if number >= 100 else f"{number:.3g}/s"
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:.4g}"


def fmt_change(base: float, new: float) -> str:
    """The relative change from ``base`` to ``new`` as "+12.3%"; "-" when it cannot be computed."""
    if not (math.isfinite(base) and math.isfinite(new)) or base == 0:
        return "-"
    return f"{(new - base) / abs(base) * 100:+.1f}%"


def fmt_ratio(value: float) -> str:
    """A detectable ratio "x1.30"; "never (too few repeats)" when infinite; "-" when missing."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return "never (too few repeats)" if math.isinf(value) else f"x{value:.2f}"


def markdown_table(rows: Iterable[Sequence[object]] | pd.DataFrame, headers: Sequence[str] | None = None) -> str:
    """A pipe table (``pandas.DataFrame.to_markdown``) of cells the caller has already formatted.

    ``rows``: a DataFrame (its columns are the headers) or rows of cells with ``headers``. Cells are
    written as given (no number parsing); a "|" inside a cell is replaced by "/" so that it cannot
    split the row.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(headers or []))
    frame = frame.map(lambda v: str(v).replace("|", "/"))
    return frame.to_markdown(index=False, tablefmt="pipe", disable_numparse=True)
