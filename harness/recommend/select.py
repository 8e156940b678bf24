"""What a recommendation is made from: the stored runs of one model x size x device, their equivalence
tables, and one SBC result per backend."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.loaders import load_equivalence, load_run, manifest_of
from harness.paths import results_root
from harness.results import ResultsError


def run_dirs(root: Path | None = None) -> list[Path]:
    """Stored benchmark runs: every directory under results/runs and results/baselines with results."""
    root = Path(root) if root is not None else results_root()
    out = []
    for base in (root / "runs", root / "baselines"):
        if base.is_dir():
            out += sorted(p for p in base.iterdir()
                          if p.is_dir() and ((p / "cells").is_dir() or (p / "results.csv").is_file()))
    return out


def load_runs(dirs: list[Path]) -> tuple[pd.DataFrame, dict[Path, pd.DataFrame | None]]:
    """(every run's rows with ``run_dir``, {run dir: its equivalence table or None})."""
    frames, eqs = [], {}
    for d in dirs:
        frame, _ = load_run(d)
        frames.append(frame.assign(run_dir=str(d)))
        eqs[d] = load_equivalence(d)
    if not frames:
        return pd.DataFrame(columns=["model", "backend", "status", "device", "size", "run_dir", "cell_id"]), eqs
    return pd.concat(frames, ignore_index=True), eqs


def default_size(model: str) -> str:
    try:
        from harness.catalogue import get_model

        return get_model(model).size_label()
    except Exception:  # a model that left the catalogue: no default size
        return ""


def rows_for(model: str, device: str, frame: pd.DataFrame, size: str | None) -> tuple[pd.DataFrame, str, list[str]]:
    """(the rows of ``model`` on ``device`` at one size, that size, notes); clear errors when there are none."""
    if frame.empty or model not in set(frame["model"]):
        stored = sorted(set(frame["model"])) if not frame.empty else []
        raise ResultsError(f"no stored results for model {model!r}; models with results: "
                           + (", ".join(stored) or "none (run `python -m harness run` first)"))
    rows = frame[frame["model"] == model]
    on_device = rows[rows["device"] == device]
    if on_device.empty:
        have = sorted(set(rows["device"]))
        raise ResultsError(f"no stored results for {model!r} on {device}; it was run on: {', '.join(have)} "
                           f"(run `python -m harness run --models {model} --device {device}`)")
    notes = []
    sizes = list(dict.fromkeys(on_device["size"]))
    if size is None:
        default = default_size(model)
        if default in sizes:
            size = default
        else:
            size = str(on_device["size"].value_counts().index[0])
            if len(sizes) > 1:
                notes.append(f"no runs at the default size {default!r}; using {size!r}, the size with most runs")
    elif size not in sizes:
        raise ResultsError(f"no stored results for {model!r} at size {size!r}; sizes run: {', '.join(sizes)}")
    if len(sizes) > 1:
        notes.append(f"size {size} (also stored: {', '.join(s for s in sizes if s != size)}; choose with --size)")
    chosen = on_device[on_device["size"] == size]
    machines = {manifest_of(Path(d)).get("machine", {}).get("cpu") for d in set(chosen["run_dir"])} - {None}
    if len(machines) > 1:
        notes.append("the runs come from different machines (" + "; ".join(sorted(machines))
                     + "): pass --results to rank within one")
    return chosen, size, notes


def _usable(row) -> float:
    def num(key):
        try:
            v = float(row.get(key))
        except (TypeError, ValueError):
            return 0.0
        return v if math.isfinite(v) else 0.0

    return (num("ok") or num("sims")) + num("confirm_ok")


def select_sbc(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """One SBC row per model x backend: the most usable replicates (screen + confirmation) win.

    Ties keep the row that comes first (directories in the order given), never "the newest". Rows
    are never pooled across directories, so no replicate is counted twice.
    """
    if table is None or table.empty:
        return table
    table = table.copy()
    table["_usable"] = [_usable(r) for _, r in table.iterrows()]
    table["_order"] = range(len(table))
    table = table.sort_values(["model", "backend", "_usable", "_order"], ascending=[True, True, False, True],
                              kind="stable")
    return table.drop_duplicates(["model", "backend"], keep="first").drop(columns=["_usable", "_order"])
