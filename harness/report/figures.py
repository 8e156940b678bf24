"""Report figures (matplotlib, Agg), returned as base64 PNG text for ``<img src="data:image/png;base64,...">``."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.backends import REGISTRY
from harness.loaders import backend_order  # noqa: E402

PHASES = [  # (column, label, colour)
    ("compile_s", "compile", "#8c6bb1"),
    ("warmup_s", "warm-up", "#fdae6b"),
    ("sampling_s", "sampling", "#3182bd"),
    ("other_s", "other (start-up, data, diagnostics)", "#d9d9d9"),
]

_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def backend_colour(name: str) -> str:
    order = list(REGISTRY) + [name]
    return _PALETTE[order.index(name) % len(_PALETTE)]


def png_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def categories(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(size, backend) pairs in plotting order: data size, then the registry's backend order."""
    sizes = (rows.assign(_ds=pd.to_numeric(rows["data_size"], errors="coerce"))
             .groupby("size", sort=False)["_ds"].median().sort_values(na_position="first"))
    order = backend_order(rows["backend"].unique())
    return [(s, b) for s in sizes.index for b in order if ((rows["size"] == s) & (rows["backend"] == b)).any()]


def _label(size: str, backend: str, several_sizes: bool) -> str:
    return f"{backend}\n{size}" if several_sizes else backend


def _not_ok_text(group: pd.DataFrame) -> str:
    bad = group[group["status"] != "ok"]["status"].value_counts()
    return ", ".join(f"{s} {n}/{len(group)}" for s, n in bad.items())


def performance_figure(rows: pd.DataFrame, title: str = "") -> str:
    """Left: ESS/s per backend (log scale), one point per repeat and the median. Right: median time per phase."""
    cats = categories(rows)
    several = rows["size"].nunique() > 1
    if len(cats) <= 5:  # side by side
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2 + 0.18 * len(cats)), gridspec_kw={"width_ratios": [1.1, 1]})
    else:  # many backends x sizes: one above the other, full width, so labels stay readable
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 4.2 + 3.0 + 0.25 * len(cats)),
                                       gridspec_kw={"height_ratios": [4.2, 3.0 + 0.25 * len(cats)]})
    rng = np.random.default_rng(0)  # fixed jitter: the figure is reproducible
    labels: list[str] = []
    positives: list[float] = []
    for i, (size, backend) in enumerate(cats):
        group = rows[(rows["size"] == size) & (rows["backend"] == backend)]
        ok = group[group["status"] == "ok"]
        values = pd.to_numeric(ok["ess_per_s"], errors="coerce").dropna()
        values = values[values > 0]
        colour = backend_colour(backend)
        if len(values):
            x = i + rng.uniform(-0.12, 0.12, len(values))
            ax1.scatter(x, values, s=30, color=colour, alpha=0.85, zorder=5, edgecolor="black", linewidth=0.4)
            med = float(np.median(values))
            ax1.hlines(med, i - 0.3, i + 0.3, color="#444444", linewidth=1.5, zorder=4)
            ax1.annotate(f"{med:,.0f}", (i + 0.32, med), fontsize=8, va="center")
            positives.extend(values)
        labels.append(_label(size, backend, several))
    ax1.set_yscale("log")
    if positives:
        lo, hi = min(positives), max(positives)
        ax1.set_ylim(lo / 3, hi * 3)
    else:
        ax1.set_ylim(1, 10)
        ax1.annotate("no successful runs", (0.5, 0.5), xycoords="axes fraction", ha="center", color="#b2182b")
    for i, (size, backend) in enumerate(cats):
        group = rows[(rows["size"] == size) & (rows["backend"] == backend)]
        text = _not_ok_text(group)
        if text:
            ax1.annotate(text, (i, 0.02), xycoords=("data", "axes fraction"), ha="center", fontsize=8,
                         color="#b2182b", rotation=90 if len(cats) > 6 else 0, va="bottom")
    ax1.set_xticks(range(len(cats)), labels, fontsize=9)
    ax1.set_xlim(-0.6, len(cats) - 0.4)
    ax1.set_ylabel("ESS/s (min bulk ESS / sampling s)")
    ax1.set_title("ESS per second of sampling (log scale; dots = repeats, bar = median)", fontsize=10)
    ax1.grid(axis="y", which="both", alpha=0.3)

    # right: median seconds per phase, stacked horizontally
    y = np.arange(len(cats))[::-1]
    left = np.zeros(len(cats))
    for col, label, colour in PHASES:
        vals = []
        for size, backend in cats:
            ok = rows[(rows["size"] == size) & (rows["backend"] == backend) & (rows["status"] == "ok")]
            if ok.empty:
                vals.append(0.0)
                continue
            if col == "other_s":
                parts = ok[["compile_s", "warmup_s", "sampling_s"]].apply(pd.to_numeric, errors="coerce").sum(axis=1)
                other = pd.to_numeric(ok["total_s"], errors="coerce") - parts
                vals.append(max(float(np.nanmedian(other)), 0.0) if other.notna().any() else 0.0)
            else:
                v = pd.to_numeric(ok[col], errors="coerce")
                vals.append(float(np.nanmedian(v)) if v.notna().any() else 0.0)
        widths = np.array(vals)
        ax2.barh(y, widths, left=left, color=colour, label=label, height=0.6,
                 hatch="//" if col == "other_s" else None, edgecolor="white" if col != "other_s" else "#bdbdbd")
        left += widths
    for yi, total in zip(y, left):
        if total > 0:
            ax2.annotate(f"{total:.1f} s", (total, yi), xytext=(3, 0), textcoords="offset points",
                         va="center", fontsize=8)
    ax2.set_yticks(y, [lbl.replace("\n", " ") for lbl in labels], fontsize=9)
    ax2.set_xlim(0, max(left.max() * 1.18, 1e-3) if len(left) else 1)
    ax2.set_xlabel("seconds per run (median over ok repeats)")
    ax2.set_title("Where the time goes", fontsize=10)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax2.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return png_base64(fig)


def has_size_sweep(rows: pd.DataFrame) -> bool:
    ok = rows[(rows["status"] == "ok") & (rows["size"] != "")]
    return pd.to_numeric(ok["data_size"], errors="coerce").dropna().nunique() > 1


def scaling_figure(rows: pd.DataFrame) -> str:
    """Sampling seconds and seconds per gradient against data size, log-log, one line per backend."""
    ok = rows[(rows["status"] == "ok") & (rows["size"] != "")].copy()
    ok["data_size"] = pd.to_numeric(ok["data_size"], errors="coerce")
    ok["s_per_grad"] = pd.to_numeric(ok["sampling_s"], errors="coerce") / pd.to_numeric(ok["n_grad"], errors="coerce")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    panels = [("sampling_s", "sampling seconds"), ("s_per_grad", "seconds per gradient (sampling s / gradients)")]
    for ax, (col, label) in zip(axes, panels):
        for backend in backend_order(ok["backend"].unique()):
            mine = ok[ok["backend"] == backend]
            mine = mine[pd.to_numeric(mine[col], errors="coerce") > 0]
            if mine.empty:
                continue
            colour = backend_colour(backend)
            ax.scatter(mine["data_size"], mine[col], s=14, color=colour, alpha=0.5)
            med = mine.groupby("data_size")[col].median()
            ax.plot(med.index, med.values, marker="o", color=colour, label=backend)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("data size (observed values)")
        ax.set_ylabel(label)
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("Cost against data size (log-log; line = median)", fontsize=10)
    fig.tight_layout()
    return png_base64(fig)
