"""The overview of a run: every model x backend in one heatmap of ESS/s relative to the model's best
backend, and a compact per-backend table beside it.

``overview_cells(frame)`` turns a run table (``harness.loaders.load_run``) into one row per
(model, size) x backend; ``overview_figure`` draws it; ``backend_table`` summarises it per backend.
Cell states: ``ok`` (coloured), ``failed`` (no repeat finished: failed, timeout or crashed),
``not implemented`` (the model brings no implementation for the backend's family) and ``not run``
(unavailable backend, skipped, or no record). ``partial`` marks an ok cell where some repeats failed,
``inaccurate`` one whose accuracy verdict is FAIL (``harness.accuracy``).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from harness.loaders import backend_order  # noqa: E402

FAILED = ("failed", "timeout", "crashed")
CMAP = "viridis"
FLOOR = 1e-3  # the colour scale stops at 1/1,000 of the best: slower cells share its darkest colour
CELL_COLUMNS = ["row", "model", "size", "klass", "backend", "state", "partial", "inaccurate", "accuracy",
                "ess_per_s", "relative", "best", "status_text"]
NOT_IMPLEMENTED_FACE, NOT_RUN_FACE, FAILED_FACE = "#d9d9d9", "#ffffff", "#fbd5d0"
FAILED_INK, INACCURATE_INK = "#b2182b", "#ff2d2d"


def model_class(model: str) -> str:
    """The model's class: the first tag of its catalogue declaration ("other" when it has none)."""
    try:
        from harness.catalogue import get_model

        tags = get_model(model).tags
    except Exception:  # a model no longer in the catalogue still gets a row
        return "other"
    return str(tags[0]) if tags else "other"


def _state(group: pd.DataFrame, model: str, backend: str) -> tuple[str, bool, str]:
    """(state, partial, status text) of one model x size x backend's records."""
    statuses = group["status"].astype(str)
    n_ok, n_bad = int((statuses == "ok").sum()), int(statuses.isin(FAILED).sum())
    counts = ", ".join(f"{s} {n}/{len(group)}" for s, n in statuses.value_counts().items())
    if (statuses == "not implemented").any():
        return "not implemented", False, counts
    if n_ok:
        return "ok", n_bad > 0, counts
    return ("failed" if n_bad else "not run"), False, counts


def _missing_state(model: str, backend: str) -> str:
    """State of a model x backend without any record: "not implemented" when the catalogue says so."""
    try:
        from harness.backends import capabilities
        from harness.catalogue import missing_family_reason

        if missing_family_reason(model, capabilities(backend).family):
            return "not implemented"
    except Exception:  # unknown model or backend: nothing to say but that it did not run
        pass
    return "not run"


def _accuracy_by_cell(frame: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """{(model, size, backend): accuracy verdict} as the benchmark table gives it (repeats pooled)."""
    from harness.run.summary import summarise

    table = summarise(frame)
    return {(str(r["model"]), str(r["size"]), str(r["backend"])): str(r["accuracy"]) for _, r in table.iterrows()}


def _row_labels(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    """{(model, size): row label}: the model name, with its size where the run has several sizes of it."""
    sizes = frame.groupby("model")["size"].nunique()
    pairs = frame[["model", "size"]].drop_duplicates().itertuples(index=False)
    return {(m, s): (f"{m} ({s})" if sizes[m] > 1 and s else m) for m, s in pairs}


def overview_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, size) x backend of ``frame`` (columns ``CELL_COLUMNS``), rows ordered by
    class, model and data size, backends in registry order. ``relative`` = median ESS/s / the best
    median ESS/s of the row among cells that are not inaccurate (NaN where nothing finished)."""
    accuracy = _accuracy_by_cell(frame)
    labels = _row_labels(frame)
    backends = backend_order(frame["backend"].unique())
    rows = []
    for (model, size), label in labels.items():
        mine = frame[(frame["model"] == model) & (frame["size"] == size)]
        for backend in backends:
            group = mine[mine["backend"] == backend]
            state, partial, text = (_state(group, model, backend) if len(group)
                                    else (_missing_state(model, backend), False, "no record"))
            ok = pd.to_numeric(group.loc[group["status"] == "ok", "ess_per_s"], errors="coerce").dropna()
            verdict = accuracy.get((model, size, backend), "-")
            rows.append({"row": label, "model": model, "size": size, "klass": model_class(model),
                         "backend": backend, "state": state, "partial": partial, "inaccurate": verdict == "FAIL",
                         "accuracy": verdict, "ess_per_s": float(ok.median()) if len(ok) else math.nan,
                         "status_text": text})
    cells = pd.DataFrame(rows, columns=[c for c in CELL_COLUMNS if c not in ("relative", "best")])
    return _with_relative(_ordered(cells, frame))


def _ordered(cells: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by class, model name and data size (smallest first)."""
    data_size = (pd.to_numeric(frame["data_size"], errors="coerce") if "data_size" in frame
                 else pd.Series(math.nan, index=frame.index))
    sizes = frame.assign(_ds=data_size).groupby(["model", "size"])["_ds"].median()
    cells = cells.assign(_ds=[sizes.get((m, s), math.nan) for m, s in zip(cells["model"], cells["size"])],
                         _b=cells.groupby("row", sort=False).cumcount())
    return cells.sort_values(["klass", "model", "_ds", "_b"], kind="stable", na_position="first").drop(
        columns=["_ds", "_b"]).reset_index(drop=True)


def _with_relative(cells: pd.DataFrame) -> pd.DataFrame:
    """Adds ``relative`` (ESS/s over the row's best accurate cell) and ``best`` (the cell that is it)."""
    fair = cells["ess_per_s"].where(~cells["inaccurate"])
    best = fair.groupby(cells["row"]).transform("max")
    best = best.fillna(cells.groupby("row")["ess_per_s"].transform("max"))  # every cell inaccurate
    cells = cells.copy()
    cells["relative"] = cells["ess_per_s"] / best
    cells["best"] = (cells["ess_per_s"] == best) & cells["ess_per_s"].notna()
    return cells


# ---------------------------------------------------------------- the compact table


def backend_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Per backend (rows sorted best first): median relative ESS/s over the rows it finished with an
    accuracy that did not FAIL, the rows where it is best, failed cells (no repeat finished, or some
    failed), inaccurate cells, rows where a repeat finished, rows."""
    out = []
    for backend, mine in cells.groupby("backend", sort=False):
        rel = mine.loc[~mine["inaccurate"], "relative"].dropna()
        out.append({"backend": backend, "median": float(rel.median()) if len(rel) else math.nan,
                    "best": int(mine["best"].sum()),
                    "failed": int(((mine["state"] == "failed") | mine["partial"]).sum()),
                    "inaccurate": int(mine["inaccurate"].sum()),
                    "finished": int((mine["state"] == "ok").sum()), "rows": len(mine)})
    table = pd.DataFrame(out)
    return table.sort_values(["median", "best"], ascending=False, na_position="last", kind="stable")


def backend_table_text(cells: pd.DataFrame) -> pd.DataFrame:
    """``backend_table`` as display text (the headers the Markdown and HTML tables show)."""
    table = backend_table(cells)
    return pd.DataFrame({
        "backend": table["backend"],
        "median ESS/s ÷ best": [relative_text(v) for v in table["median"]],
        "best on": [f"{b} of {n}" for b, n in zip(table["best"], table["rows"])],
        "failed": table["failed"].astype(str),
        "inaccurate": table["inaccurate"].astype(str),
        "finished": [f"{f} of {n}" for f, n in zip(table["finished"], table["rows"])],
    })


def relative_text(value: float) -> str:
    """0.52, 0.071, 0.0072; "1" for the best; "<0.001" below; "-" when missing."""
    if not math.isfinite(value):
        return "-"
    if 0.995 <= value <= 1.005:
        return "1"
    return "<0.001" if value < 0.001 else f"{value:.2g}"


# ---------------------------------------------------------------- the figure


def _norm(cells: pd.DataFrame) -> mcolors.LogNorm:
    rel = cells["relative"][cells["relative"] > 0]
    low = max(float(rel.min()) if len(rel) else 0.1, FLOOR)
    return mcolors.LogNorm(vmin=min(10.0 ** math.floor(math.log10(low)), 0.1), vmax=1.0)


def _grid(cells: pd.DataFrame) -> tuple[list[str], list[str], np.ndarray]:
    """(row labels, backends, relative values as a rows x backends array; NaN where not ok)."""
    rows = list(dict.fromkeys(cells["row"]))
    backends = list(dict.fromkeys(cells["backend"]))
    grid = cells.pivot(index="row", columns="backend", values="relative").reindex(index=rows, columns=backends)
    return rows, backends, grid.to_numpy(dtype=float)


def _ink(rgba) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _draw_cell(ax, x: int, y: int, cell: pd.Series, cmap, norm) -> None:
    """One cell's marks over the heatmap: its value, or the state's face and word; hatching and frames."""
    state = cell["state"]
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
    if state == "ok" and math.isfinite(cell["relative"]):
        rgba = cmap(norm(min(max(cell["relative"], norm.vmin), 1.0)))
        ax.text(x, y, relative_text(cell["relative"]), ha="center", va="center", fontsize=8,
                color="black" if cell["inaccurate"] else _ink(rgba), fontweight="bold" if cell["best"] else "normal",
                bbox=box if cell["inaccurate"] else None, zorder=4)
    else:
        face = {"failed": FAILED_FACE, "not implemented": NOT_IMPLEMENTED_FACE}.get(state, NOT_RUN_FACE)
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=face, lw=0,
                               edgecolor="#a8a8a8" if state == "not implemented" else "none",
                               hatch=".." if state == "not implemented" else None))
        word = {"failed": "✕ failed", "not implemented": "n/i", "not run": "–"}.get(state, state)
        ax.text(x, y, word, ha="center", va="center", fontsize=7.5, zorder=4,
                color=FAILED_INK if state == "failed" else "#333333", fontweight="bold" if state == "failed" else None,
                bbox=box if state == "not implemented" else None)
    if cell["inaccurate"]:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="////", edgecolor=INACCURATE_INK, lw=0))
        ax.add_patch(Rectangle((x - 0.46, y - 0.46), 0.92, 0.92, fill=False, edgecolor=INACCURATE_INK, lw=2.0))
    if cell["partial"]:
        ax.text(x + 0.44, y - 0.4, "✕", ha="right", va="top", fontsize=8, color=FAILED_INK, fontweight="bold")
    ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="white", lw=0.8, zorder=3))


def _class_brackets(ax, cells: pd.DataFrame, rows: list[str], width: int) -> None:
    """Class names right of the heatmap, a bracket over each class's rows, white lines between classes."""
    klass = cells.drop_duplicates("row").set_index("row")["klass"]
    start = 0
    for i in range(1, len(rows) + 1):
        if i < len(rows) and klass[rows[i]] == klass[rows[start]]:
            continue
        top, bottom = start - 0.4, i - 0.6
        x = width - 0.5 + 0.15
        ax.plot([x, x + 0.12, x + 0.12, x], [top, top, bottom, bottom], color="#444444", lw=1.0, clip_on=False)
        ax.text(x + 0.25, (top + bottom) / 2, klass[rows[start]], ha="left", va="center", fontsize=9,
                fontweight="bold", color="#333333")
        if i < len(rows):
            ax.axhline(i - 0.5, color="white", lw=3)
            ax.axhline(i - 0.5, color="#444444", lw=0.8)
        start = i


def _legend(fig, cells: pd.DataFrame, cmap, norm, left: float) -> None:
    """The legend of the cell marks, each with how many cells carry it."""
    counts = {
        "failed": int((cells["state"] == "failed").sum()), "partial": int(cells["partial"].sum()),
        "inaccurate": int(cells["inaccurate"].sum()), "ni": int((cells["state"] == "not implemented").sum()),
        "not run": int((cells["state"] == "not run").sum()),
    }
    handles = [
        Patch(facecolor=FAILED_FACE, edgecolor=FAILED_INK, label=f"✕ failed: no repeat finished ({counts['failed']})"),
        Line2D([], [], marker="x", color=FAILED_INK, linestyle="none", markersize=7, mew=2,
               label=f"✕ in a corner: some repeats failed ({counts['partial']})"),
        Patch(facecolor=cmap(norm(0.3)), edgecolor=INACCURATE_INK, hatch="////", lw=2,
              label=f"hatched, red frame: accuracy FAIL vs reference ({counts['inaccurate']})"),
        Patch(facecolor=NOT_IMPLEMENTED_FACE, hatch="..", edgecolor="#a8a8a8",
              label=f"n/i: not implemented for this backend ({counts['ni']})"),
        Patch(facecolor=NOT_RUN_FACE, edgecolor="#bbbbbb",
              label=f"–: not run (backend unavailable or skipped) ({counts['not run']})"),
    ]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(left, 0.0), ncol=2, fontsize=8, frameon=False,
               handlelength=2.2, handleheight=1.4)


def overview_figure(cells: pd.DataFrame, title: str = "", subtitle: str = ""):
    """The heatmap (a matplotlib Figure) of ``overview_cells``: rows (model, size) grouped by class,
    columns backends, colour = relative ESS/s on a log scale (1 = best), marks for the other states."""
    rows, backends, grid = _grid(cells)
    cmap = plt.get_cmap(CMAP)
    norm = _norm(cells)
    label_in = max((len(r) for r in rows), default=10) * 0.075
    width = 1.4 + label_in + 0.82 * len(backends) + 1.4
    height = 3.15 + 0.36 * max(len(rows), 1)
    fig = plt.figure(figsize=(width, height))
    bottom, top = 1.65 / height, 1 - 1.5 / height
    left, right = (0.2 + label_in) / width, 1 - 1.5 / width
    ax = fig.add_axes((left, bottom, right - left, top - bottom))
    shown = np.where(np.isfinite(grid) & (grid > 0), np.clip(grid, norm.vmin, 1.0), np.nan)
    ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    for _, cell in cells.iterrows():
        _draw_cell(ax, backends.index(cell["backend"]), rows.index(cell["row"]), cell, cmap, norm)
    ax.set_xlim(-0.5, len(backends) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.xaxis.tick_top()
    ax.set_xticks(range(len(backends)), backends, rotation=35, ha="left", fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    _class_brackets(ax, cells, rows, len(backends))
    bar_width = min(right - left, max(0.6 * (right - left), 4.0 / width))  # at least 4 inches where it fits
    cax = fig.add_axes((left, 1.1 / height, bar_width, 0.15 / height))
    below = bool((cells["relative"] < norm.vmin).any())
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal",
                       extend="min" if below else "neither", extendfrac=0.04)
    ticks = [10.0 ** k for k in range(int(round(math.log10(float(norm.vmin or FLOOR)))), 1)]
    bar.set_ticks(ticks, labels=[relative_text(t) if t >= 1e-3 else f"{t:g}" for t in ticks], fontsize=8)
    bar.set_label("ESS/s ÷ the best backend's on that model (log scale; 1 = best, bold)", fontsize=8.5)
    _legend(fig, cells, cmap, norm, left)
    fig.suptitle(title or "ESS per second relative to the best backend of each model", x=left, ha="left",
                 y=1 - 0.18 / height, va="top", fontsize=12, fontweight="bold")
    if subtitle:
        fig.text(left, 1 - 0.48 / height, subtitle, ha="left", va="top", fontsize=8.5, color="#444444")
    return fig


def figure_bytes(fig, fmt: str) -> bytes:
    """``fig`` as PNG or SVG bytes (the figure stays open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=130, bbox_inches="tight", pad_inches=0.15,
                metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def write_overview(cells: pd.DataFrame, paths: list[Path], title: str = "", subtitle: str = "") -> bytes:
    """Draw the overview once and write it to every path (format from the suffix: .png or .svg);
    returns the PNG bytes (for embedding)."""
    fig = overview_figure(cells, title, subtitle)
    try:
        png = figure_bytes(fig, "png")
        for path in paths:
            fmt = path.suffix.lower().lstrip(".") or "png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png if fmt == "png" else figure_bytes(fig, fmt))
        return png
    finally:
        plt.close(fig)
