"""Accuracy in the report: per model, every backend's z-scores of mean, sd, q05 and q95 against the
reference posterior (``harness.accuracy``).

A new run stores each ok cell's statistics in ``<run>/accuracy/<cell>.csv``; the repeats of a model x
size x backend are pooled (``harness.accuracy.pool``) and compared scalar by scalar:
``z = (estimate - reference) / sqrt(se^2 + se_ref^2)``, the formula of ``harness.accuracy.compare``,
which gives the verdict. Older runs keep only each record's verdict and worst z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.accuracy import ACCURACY_ALPHA, STATISTICS, compare, pool, reference_for, statistics_file
from harness.loaders import backend_order
from harness.report.figures import png_base64

MARKERS = {"mean": ("o", "#1b9e77"), "sd": ("s", "#d95f02"), "q05": ("v", "#7570b3"), "q95": ("^", "#e7298a")}
SE_COLUMN = {"mean": "mcse_mean", "sd": "mcse_sd", "q05": "mcse_q05", "q95": "mcse_q95"}  # reference summary
Z_CAP = 30.0  # beyond this the axis is clipped; the dots sit on its edge


@dataclass
class ModelAccuracy:
    """One model's accuracy part: ``z`` (long: backend, parameter, statistic, z; empty without
    statistics), ``verdicts`` (backend, verdict, worst, z, difference), ``size`` the reference's size
    and ``note`` why something is missing ("" when nothing is)."""

    z: pd.DataFrame
    verdicts: pd.DataFrame
    size: str = ""
    note: str = ""
    tests: int = 0
    missing: list[str] = field(default_factory=list)


def scalar_z(reference: pd.DataFrame, fit: pd.DataFrame) -> pd.DataFrame:
    """Per scalar x statistic: z against ``reference`` (a summary table) of ``fit`` (``pool`` output);
    columns parameter, statistic, z, diff_sd (the difference in reference sd). Rows the reference lacks
    are left out; an se of 0 gives +-inf unless the difference is 0."""
    ref = reference.set_index("parameter")
    rows = fit[fit["statistic"].isin(STATISTICS) & fit["parameter"].isin(ref.index)]
    rows = rows[[s in ref.columns and SE_COLUMN[s] in ref.columns for s in rows["statistic"]]]
    pairs = list(zip(rows["parameter"], rows["statistic"]))
    value = np.array([ref.at[p, s] for p, s in pairs], dtype=float)
    ref_se = np.array([ref.at[p, SE_COLUMN[s]] for p, s in pairs], dtype=float)
    ref_sd = np.array([ref.at[p, "sd"] for p, _ in pairs], dtype=float)
    diff = rows["estimate"].to_numpy(dtype=float) - value
    se = np.sqrt(rows["se"].to_numpy(dtype=float) ** 2 + ref_se ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
        diff_sd = diff / ref_sd
    return pd.DataFrame({"parameter": rows["parameter"].to_numpy(), "statistic": rows["statistic"].to_numpy(),
                         "z": z, "diff_sd": diff_sd})


def z_critical(tests: int, alpha: float = ACCURACY_ALPHA) -> float:
    """Holm's first (strictest) two-sided critical |z| over ``tests`` tests at ``alpha``."""
    from scipy import stats as sps

    return float(sps.norm.isf(alpha / (2 * max(tests, 1))))


def _cell_tables(group: pd.DataFrame) -> list[pd.DataFrame]:
    """The stored statistics of a group's ok records (one table per repeat that has a file)."""
    tables = []
    for _, row in group[group["status"] == "ok"].iterrows():
        path = statistics_file(Path(str(row["run_dir"])), str(row["cell_id"]))
        if path.is_file():
            tables.append(pd.read_csv(path))
    return tables


def _record_verdicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Verdict table from the records alone (runs without statistics files): per backend the worst
    verdict over its ok repeats, and the scalar, z and difference of the repeat with the largest |z|."""
    from harness.verdicts import worst_accuracy

    ok = rows[rows["status"] == "ok"].copy()
    for col in ("accuracy", "accuracy_worst", "accuracy_z", "accuracy_diff_sd"):
        if col not in ok:
            ok[col] = None
    ok["_abs_z"] = pd.to_numeric(ok["accuracy_z"], errors="coerce").abs()
    out = []
    for backend in backend_order(ok["backend"].unique()):
        mine = ok[ok["backend"] == backend].sort_values("_abs_z", ascending=False, na_position="last")
        top = mine.iloc[0]
        out.append({"backend": backend, "verdict": worst_accuracy(mine["accuracy"].fillna("no reference")) or "-",
                    "worst": "" if pd.isna(top["accuracy_worst"]) else str(top["accuracy_worst"]),
                    "z": _float(top["accuracy_z"]), "diff": _float(top["accuracy_diff_sd"])})
    return pd.DataFrame(out, columns=["backend", "verdict", "worst", "z", "diff"])


def _float(value: object) -> float:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) else math.nan


def _pooled(model: str, ref: pd.DataFrame, rows: pd.DataFrame) -> tuple[list[pd.DataFrame], list[dict], list[str]]:
    """(z tables, verdict rows, backends without statistics files) of ``rows`` (ok rows at the
    reference's size), one backend at a time, repeats pooled."""
    frames, verdicts, missing = [], [], []
    for backend in backend_order(rows["backend"].unique()):
        tables = _cell_tables(rows[rows["backend"] == backend])
        if not tables:
            missing.append(backend)
            continue
        pooled = pool(tables)
        frames.append(scalar_z(ref, pooled).assign(backend=backend))
        v = compare(ref, pooled)
        verdicts.append({"backend": backend, "verdict": v["accuracy"], "worst": v.get("accuracy_worst", ""),
                         "z": v.get("accuracy_z", math.nan), "diff": v.get("accuracy_diff_sd", math.nan)})
    return frames, verdicts, missing


def model_accuracy(model: str, rows: pd.DataFrame) -> ModelAccuracy:
    """The accuracy part of one model's section from its run rows (``load_run`` rows of that model)."""
    empty = pd.DataFrame(columns=["backend", "parameter", "statistic", "z", "diff_sd"])
    found = [(s, *reference_for(model, s)) for s in dict.fromkeys(rows["size"])]
    with_ref = [(s, ref) for s, ref, _ in found if ref is not None]
    if not with_ref:
        return ModelAccuracy(empty, _record_verdicts(rows), note=f"no reference: {found[0][2] if found else 'no rows'}")
    size, ref = with_ref[0]
    at_size = rows[(rows["size"] == size) & (rows["status"] == "ok")]
    if at_size.empty:
        return ModelAccuracy(empty, _record_verdicts(at_size), size=size,
                             note=f"no run at the reference's size ({size or 'default'}) finished")
    frames, verdicts, missing = _pooled(model, ref, at_size)
    if not frames:
        return ModelAccuracy(empty, _record_verdicts(at_size), size=size,
                             note="no per-cell statistics in this run (accuracy/<cell>.csv): "
                                  "only each run's verdict and worst z from its record")
    z = pd.concat(frames, ignore_index=True)
    tests = int(z.groupby("backend").size().max())
    return ModelAccuracy(z, pd.DataFrame(verdicts), size=size, tests=tests, missing=missing)


def zscore_figure(acc: ModelAccuracy) -> str:
    """Base64 PNG: one row per backend, its scalars' z per statistic (marker), the |z| < critical band."""
    import matplotlib.pyplot as plt

    backends = list(dict.fromkeys(acc.z["backend"]))
    crit = z_critical(acc.tests)
    finite = acc.z["z"][np.isfinite(acc.z["z"])].abs()
    cap = max(crit * 1.6, min(float(finite.max()) if len(finite) else 0.0, Z_CAP) * 1.08)
    height = 1.05 + 0.5 * len(backends)  # inches: 0.4 legend above, 0.65 axis label below
    fig = plt.figure(figsize=(9, height))
    ax = fig.add_axes((0.2, 0.65 / height, 0.77, 0.5 * len(backends) / height))
    ax.axvspan(-crit, crit, color="#e3f1e3", zorder=0, label=f"|z| < {crit:.2f} (Holm, α = {ACCURACY_ALPHA})")
    ax.axvline(0, color="#888888", lw=0.8, zorder=1)
    verdict = dict(zip(acc.verdicts["backend"], acc.verdicts["verdict"]))
    for j, stat in enumerate(STATISTICS):
        marker, colour = MARKERS[stat]
        mine = acc.z[acc.z["statistic"] == stat]
        y = np.array([backends.index(b) for b in mine["backend"]]) + (j - 1.5) * 0.16
        x = np.clip(mine["z"].to_numpy(dtype=float), -cap, cap)
        ax.scatter(x, y, marker=marker, s=22, color=colour, edgecolor="black", linewidth=0.3, alpha=0.8,
                   zorder=3, label=stat)
    ax.set_yticks(range(len(backends)), [f"{b}  ({verdict.get(b, '-')})" for b in backends], fontsize=9)
    ax.set_ylim(len(backends) - 0.5, -0.5)
    ax.set_xlim(-cap, cap)
    ax.set_xlabel("z = (estimate − reference) / combined standard error", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return png_base64(fig)
