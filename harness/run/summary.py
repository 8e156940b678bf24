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


def _accuracy(ok: pd.DataFrame, pooled: dict | None) -> tuple[str, str]:
    """(verdict, per repeat): the verdict of the repeats pooled (``harness.accuracy``) where their
    statistics are stored, else the worst per-repeat verdict; and the per-repeat verdicts."""
    from harness.verdicts import worst_accuracy

    if "accuracy" not in ok or ok["accuracy"].isna().all():
        return (pooled or {}).get("accuracy", "-"), "-"
    values = ok["accuracy"].fillna("no reference").astype(str)
    per_repeat = "/".join(values) if len(values) > 1 else "-"
    if pooled:
        return pooled["accuracy"], per_repeat
    return worst_accuracy(values), per_repeat


def divergence_counts(ok: pd.DataFrame) -> tuple[int, int]:
    """(divergent transitions, kept draws) summed over ok runs (chains x draws where a record lacks the count)."""
    def column(name: str) -> pd.Series:
        return pd.to_numeric(ok[name], errors="coerce") if name in ok else pd.Series(float("nan"), index=ok.index)

    draws = column("divergent_draws")
    if draws.isna().any():
        draws = column("chains") * column("draws")
    return int(column("divergences").fillna(0).sum()), int(draws.fillna(0).sum())


def divergence_units(ok: pd.DataFrame) -> list[float]:
    """Divergence rates of the independent units of the ok runs: one per chain where the records carry
    ``divergences_by_chain`` ("3;0;1;2"), else one per run (divergent transitions over its kept draws).
    Divergences cluster within chains, so chains, not draws, are what a comparison may count as
    independent."""
    def number(row, key: str) -> float:
        value = pd.to_numeric(pd.Series([row.get(key)]), errors="coerce").iloc[0]
        return float(value) if pd.notna(value) else float("nan")

    units: list[float] = []
    for _, row in ok.iterrows():
        draws = number(row, "divergent_draws")
        if not draws > 0:
            draws = number(row, "chains") * number(row, "draws")
        total = number(row, "divergences")
        if not draws > 0 or math.isnan(total):
            continue
        by_chain = row.get("divergences_by_chain")
        counts = [] if by_chain is None or (isinstance(by_chain, float) and math.isnan(by_chain)) else \
            [int(float(c)) for c in str(by_chain).split(";") if c.strip()]
        if counts and sum(counts) == int(total):
            units.extend(c / (draws / len(counts)) for c in counts)
        else:
            units.append(total / draws)
    return units


def divergence_rate(ok: pd.DataFrame) -> tuple[float, float, float, int, int]:
    """(rate, low, high, divergent, draws): divergent transitions over kept draws of the ok runs, with
    its Clopper-Pearson 95% interval (``harness.stats.rate_interval``)."""
    from harness.stats import rate_interval

    events, trials = divergence_counts(ok)
    lo, hi = rate_interval(events, trials)
    return (events / trials if trials else math.nan), lo, hi, events, trials


def rate_text(rate: float, lo: float, hi: float) -> str:
    """"0.25% (0.1-0.5%)"; "-" without draws."""
    if not math.isfinite(rate):
        return "-"
    return f"{rate:.2%} ({lo:.2%}-{hi:.2%})".replace(".00%", "%")


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per model x size x backend: medians over the repeats that ran, the pooled accuracy verdict,
    the divergence rate with its interval, status, first error."""
    from harness.accuracy import pooled_verdicts
    from harness.backends import REGISTRY

    pooled = pooled_verdicts(frame)
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
        device = str(group["device"].iloc[0]) if "device" in group else "cpu"
        row["accuracy"], row["accuracy_repeats"] = _accuracy(ok, pooled.get((str(key[0]), str(key[1]), str(key[2]),
                                                                               device)))
        rate, lo, hi, events, trials = divergence_rate(ok)
        row.update(divergences=events, divergence_rate=rate, divergence_low=lo, divergence_high=hi)
        row["status"] = _status(group)
        row["error"] = _error(group)
        rows.append(row)
    return pd.DataFrame(rows)


SUMMARY_HEADERS = (["model", "backend", "sampler"] + [h for _, h, _ in SUMMARY_COLUMNS]
                   + ["divergent (95% CI)", "accuracy", "per repeat", "status"])


def summary_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The benchmark table as display text: one row per model x backend (x size), columns
    ``SUMMARY_HEADERS``, plus one note per row that is not ok (its first error). The Markdown
    (``markdown_summary``) and the HTML report are both made from it."""
    table = summarise(frame)
    rows, notes = [], []
    for _, row in table.iterrows():
        model = row["model"] + (f" ({row['size']})" if row["size"] else "")
        rows.append([model, row["backend"], row["sampler"]] + [fmt(row[c], f) for c, _, f in SUMMARY_COLUMNS]
                    + [rate_text(row["divergence_rate"], row["divergence_low"], row["divergence_high"]),
                       row["accuracy"], row["accuracy_repeats"], row["status"]])
        if row["error"]:
            notes.append(f"{model} / {row['backend']}: {row['error']}")
    return pd.DataFrame(rows, columns=SUMMARY_HEADERS), notes


def markdown_summary(frame: pd.DataFrame) -> str:
    """The benchmark table: one row per model x backend (x size), medians over repeats.

    ``accuracy``: the verdict of the repeats pooled against the model's reference posterior
    (``harness.accuracy``), with the per-repeat verdicts beside it; "-" when the records carry none.
    ``divergent``: divergent transitions per kept draw with a 95% interval.
    """
    table, notes = summary_table(frame)
    out = markdown_table(table)
    if notes:
        out += "\n\nNot ok:\n" + "\n".join(f"- {n}" for n in notes)
    return out


PHASE_NAMES = {"startup_s": "start-up", "import_s": "imports", "compile_s": "compile", "warmup_s": "warm-up",
               "sampling_s": "sampling", "overhead_s": "call overhead", "diagnostics_s": "diagnostics",
               "write_s": "writing"}


def phase_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Seconds per phase summed over each backend's cells (every status), with ``sampling_per_grad``
    (median over ok cells, microseconds): one row per backend, then a total row. Records made before
    the phases were recorded give NaN."""
    from harness.backends import REGISTRY

    order = {name: i for i, name in enumerate(REGISTRY)}
    rows = []
    for backend in sorted(frame["backend"].unique(), key=lambda b: order.get(b, len(order))):
        mine = frame[frame["backend"] == backend]
        row = {"backend": backend, "cells": len(mine)}
        for col in PHASE_NAMES:
            values = pd.to_numeric(mine[col], errors="coerce") if col in mine else pd.Series(dtype=float)
            row[col] = float(values.sum()) if values.notna().any() else math.nan
        ok = mine[mine["status"] == "ok"]
        per_grad = pd.to_numeric(ok["sampling_per_grad"], errors="coerce") if "sampling_per_grad" in ok else None
        row["sampling_per_grad_us"] = float(per_grad.median()) * 1e6 if per_grad is not None and per_grad.notna().any() else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        total = {"backend": "all", "cells": int(table["cells"].sum()),
                 **{c: float(table[c].sum(min_count=1)) for c in PHASE_NAMES}, "sampling_per_grad_us": math.nan}
        table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table


def phase_markdown(frame: pd.DataFrame) -> str:
    """Where the cells' time went: seconds per phase and backend (``phase_table``)."""
    table = phase_table(frame)
    if table.empty or table[list(PHASE_NAMES)].isna().all().all():
        return ""
    rows = [[r["backend"], str(r["cells"]), *[fmt(r[c], "{:.1f}") for c in PHASE_NAMES],
             fmt(r["sampling_per_grad_us"], "{:.2f}")] for _, r in table.iterrows()]
    return markdown_table(rows, ["backend", "cells", *[f"{n} s" for n in PHASE_NAMES.values()],
                                 "sampling s per gradient (µs, median)"])


def phase_line(frame: pd.DataFrame) -> str:
    """'81 cells, 1087 s of cell time: compile 945 s, sampling 34 s, ...' (largest phases first)."""
    table = phase_table(frame)
    if table.empty:
        return ""
    total = table.iloc[-1]
    parts = sorted(((PHASE_NAMES[c], float(total[c])) for c in PHASE_NAMES if pd.notna(total[c])), key=lambda p: -p[1])
    if not parts:
        return ""
    return (f"{int(total['cells'])} cells, {sum(s for _, s in parts):.0f} s of cell time: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts))


def equivalence_line(table: pd.DataFrame) -> str:
    """One line on a run's ``equivalence.csv`` (one row per model x check x pair): how many pairs agree,
    the pairs that do not (status ``fail``), and apart from them the pairs an error kept from being
    checked (a timeout, a crash), one entry per model and error; skipped and not implemented pairs
    are counted."""
    agree = int((table["status"] == "pass").sum())
    line = f"log-density equivalence: {agree}/{len(table)} model x backend pairs agree"
    failed = table[table["status"] == "fail"]
    if not failed.empty:
        line += "; NOT EQUIVALENT: " + ", ".join(f"{r.model}: {r.a} vs {r.b}" for r in failed.itertuples())
    errors = table[table["status"] == "error"]
    if not errors.empty:
        counts = errors.groupby(["model", "error"], sort=False, dropna=False).size().reset_index(name="pairs")
        line += "; NOT CHECKED: " + ", ".join(f"{r.model} ({r.pairs} pairs: {r.error})" for r in counts.itertuples())
    others = int(table["status"].isin(["skipped", "not implemented"]).sum())
    if others:
        line += f"; {others} skipped or not implemented"
    return line
