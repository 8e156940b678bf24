"""The benchmark table: one row per model x size x backend, medians over the repeats that ran."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.tables import fmt, markdown_table

# (column, header, format) of the benchmark summary
SUMMARY_COLUMNS = [
    ("compile_s", "compile s", "{:.2f}"),
    ("warmup_s", "warm-up s", "{:.2f}"),
    ("sampling_s", "sampling s", "{:.2f}"),
    ("ess_bulk_min", "min bulk ESS", "{:.0f}"),
    ("ess_tail_min", "min tail ESS", "{:.0f}"),
    ("ess_per_s", "ESS/s", "{:,.0f}"),
    ("ess_per_s_total", "ESS/s incl. compile", "{:,.1f}"),
    ("ess_per_grad", "ESS/grad", "{:.4f}"),
    ("rhat_max", "max R-hat", "{:.3f}"),
    ("divergences", "divergences", "{:.0f}"),
]


def _status(group: pd.DataFrame) -> str:
    counts = group["status"].value_counts()
    if list(counts.index) == ["ok"]:
        flags = sorted({f for v in group.get("flags", pd.Series(dtype=str)).dropna() for f in str(v).split(",") if f})
        return "ok" + (f" ({', '.join(flags)})" if flags else "")
    parts = [f"{s} {n}/{len(group)}" for s, n in counts.items()]
    return "; ".join(parts)


def _error(group: pd.DataFrame) -> str:
    errors = group.loc[group["status"] != "ok", "error"].dropna()
    if errors.empty:
        return ""
    first = str(errors.iloc[0]).strip().splitlines()[0] if str(errors.iloc[0]).strip() else ""
    return first[:120]


def _accuracy(ok: pd.DataFrame) -> str:
    """Accuracy against the reference posterior over repeats: the worst verdict (``harness.verdicts``),
    with a count when mixed."""
    from harness.verdicts import worst_accuracy

    if "accuracy" not in ok or ok["accuracy"].isna().all():
        return "-"
    values = ok["accuracy"].fillna("no reference").astype(str)
    worst = worst_accuracy(values)
    n = int((values == worst).sum())
    return worst if n == len(values) else f"{worst} {n}/{len(values)}"


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per model x size x backend: medians over the repeats that ran, status, first error."""
    from harness.backends import REGISTRY

    keys = ["model", "size", "backend"]
    frame = frame.copy()
    frame["size"] = frame["size"].fillna("")
    order = {name: i for i, name in enumerate(REGISTRY)}
    frame["_backend_order"] = frame["backend"].map(lambda b: order.get(b, len(order)))
    frame["_data_size"] = (pd.to_numeric(frame["data_size"], errors="coerce") if "data_size" in frame
                           else math.nan)
    frame = frame.sort_values(["model", "_data_size", "_backend_order"], kind="stable", na_position="first")
    rows = []
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        ok = group[group["status"] == "ok"]
        row = dict(zip(keys, key))
        row["repeats"] = len(group)
        samplers: list[str] = list(ok["sampler"].dropna().astype(str).unique()) if "sampler" in ok else []
        row["sampler"] = ", ".join(samplers) or "-"
        for col, _, _ in SUMMARY_COLUMNS:
            values = pd.to_numeric(ok[col], errors="coerce") if col in ok else pd.Series(dtype=float)
            row[col] = float(np.median(values.dropna())) if values.notna().any() else math.nan
        row["accuracy"] = _accuracy(ok)
        row["status"] = _status(group)
        row["error"] = _error(group)
        rows.append(row)
    return pd.DataFrame(rows)


SUMMARY_HEADERS = ["model", "backend", "sampler"] + [h for _, h, _ in SUMMARY_COLUMNS] + ["accuracy", "status"]


def summary_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The benchmark table as display text: one row per model x backend (x size), columns
    ``SUMMARY_HEADERS``, plus one note per row that is not ok (its first error). The Markdown
    (``markdown_summary``) and the HTML report are both made from it."""
    table = summarise(frame)
    rows, notes = [], []
    for _, row in table.iterrows():
        model = row["model"] + (f" ({row['size']})" if row["size"] else "")
        rows.append([model, row["backend"], row["sampler"]] + [fmt(row[c], f) for c, _, f in SUMMARY_COLUMNS]
                    + [row["accuracy"], row["status"]])
        if row["error"]:
            notes.append(f"{model} / {row['backend']}: {row['error']}")
    return pd.DataFrame(rows, columns=SUMMARY_HEADERS), notes


def markdown_summary(frame: pd.DataFrame) -> str:
    """The benchmark table: one row per model x backend (x size), medians over repeats.

    ``accuracy``: the cells' verdict against the model's reference posterior
    (``harness.accuracy``), the worst over repeats ("FAIL 1/3" when mixed); "-" when the
    records carry none.
    """
    table, notes = summary_table(frame)
    out = markdown_table(table)
    if notes:
        out += "\n\nNot ok:\n" + "\n".join(f"- {n}" for n in notes)
    return out
