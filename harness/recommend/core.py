"""Which backend for this model? Rank the qualifying backends from stored results.

A backend qualifies for a model on a device when, over every stored run of that model x size x device:

* every one of its runs finished (status ok) - a backend that failed, timed out or crashed even once
  is excluded with the error;
* its log density agrees with the scipy reference in the runs' ``equivalence.csv``;
* its simulation-based calibration verdict is ``pass`` (no SBC result excludes it too, unless
  ``allow_missing_sbc``: then it is ranked with a warning);
* its diagnostics are clean: no divergent transition in any run, median max R-hat <= 1.01 (runs
  with more than one chain) and median min bulk ESS >= 100.

Qualifying backends are ranked twice:

* by ESS/s: median over runs of min bulk ESS / sampling seconds;
* by the time to ``target_ess`` (1000) effective draws including compile, per run
  ``compile_s + warmup_s + sampling_s * target_ess / ess_bulk_min`` and the median over runs.
  Compile and warm-up are fixed costs paid once; the sampling time scales with the effective
  draws wanted. ``compile_s`` is as measured: a warm compile cache makes it small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.figures import backend_order
from harness.report.inputs import (
    ESS_MIN, RESULTS_ROOT, RHAT_MAX, equivalence_verdicts, first_line, load_equivalence, load_run, manifest_of,
)
from harness.results import ResultsError

TARGET_ESS = 1000


@dataclass
class Candidate:
    backend: str
    runs: int
    ess_per_s: float
    time_to_target_s: float
    compile_s: float
    warmup_s: float
    sampling_per_target_s: float
    warnings: list[str] = field(default_factory=list)
    cache: str = ""  # e.g. "3/3 cached": how many runs compiled from a warm cache


@dataclass
class Recommendation:
    model: str
    device: str
    size: str
    target_ess: int
    sources: list[Path]
    sbc_sources: list[str]
    ranked: list[Candidate]
    excluded: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def by_ess_per_s(self) -> list[Candidate]:
        return sorted(self.ranked, key=lambda c: -c.ess_per_s)

    def by_time(self) -> list[Candidate]:
        return sorted(self.ranked, key=lambda c: c.time_to_target_s)


def run_dirs(root: Path = RESULTS_ROOT) -> list[Path]:
    """Stored benchmark runs: every directory under results/runs and results/baselines with results."""
    out = []
    for base in (root / "runs", root / "baselines"):
        if base.is_dir():
            out += sorted(p for p in base.iterdir()
                          if p.is_dir() and ((p / "cells").is_dir() or (p / "results.csv").is_file()))
    return out


def load_runs(dirs: list[Path]) -> tuple[pd.DataFrame, dict[Path, pd.DataFrame | None]]:
    frames, eqs = [], {}
    for d in dirs:
        frame, _ = load_run(d)
        frames.append(frame.assign(run_dir=str(d)))
        eqs[d] = load_equivalence(d)
    if not frames:
        return pd.DataFrame(columns=["model", "backend", "status", "device", "size", "run_dir"]), eqs
    return pd.concat(frames, ignore_index=True), eqs


def _default_size(model: str) -> str:
    try:
        from harness.catalogue import get_model
        from harness.worker import size_label

        return size_label(get_model(model), {})
    except Exception:  # a model that left the catalogue: no default size
        return ""


def _diagnostics(ok: pd.DataFrame) -> list[str]:
    reasons = []
    div = pd.to_numeric(ok["divergences"], errors="coerce").fillna(0)
    if (div > 0).any():
        reasons.append(f"divergences: {int(div.sum())} in {int((div > 0).sum())}/{len(ok)} runs")
    chains = pd.to_numeric(ok.get("chains", pd.Series(2, index=ok.index)), errors="coerce").fillna(2)
    rhat = pd.to_numeric(ok["rhat_max"], errors="coerce")[chains > 1].dropna()
    if len(rhat) and float(np.median(rhat)) > RHAT_MAX:
        reasons.append(f"R-hat: median max R-hat {float(np.median(rhat)):.3f} > {RHAT_MAX}")
    ess = pd.to_numeric(ok["ess_bulk_min"], errors="coerce")
    if ess.isna().all() or float(ess.median()) < ESS_MIN:
        reasons.append(f"low ESS: median min bulk ESS {ess.median():.0f} < {ESS_MIN}")
    return reasons


def recommend(model: str, device: str, frame: pd.DataFrame, equivalence: dict[Path, pd.DataFrame | None],
              sbc: pd.DataFrame | None, *, size: str | None = None, target_ess: int = TARGET_ESS,
              allow_missing_sbc: bool = False, sbc_sources: list[str] | None = None) -> Recommendation:
    """Rank the backends of ``model`` on ``device``; see the module docstring for the rules."""
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
        default = _default_size(model)
        if default in sizes:
            size = default
        else:
            size = on_device["size"].value_counts().index[0]
            if len(sizes) > 1:
                notes.append(f"no runs at the default size {default!r}; using {size!r}, the size with most runs")
    elif size not in sizes:
        raise ResultsError(f"no stored results for {model!r} at size {size!r}; sizes run: {', '.join(sizes)}")
    if len(sizes) > 1:
        notes.append(f"size {size} (also stored: {', '.join(s for s in sizes if s != size)}; choose with --size)")
    rows = on_device[on_device["size"] == size]
    dirs = sorted({Path(d) for d in rows["run_dir"]})
    machines = {manifest_of(d).get("machine", {}).get("cpu") for d in dirs} - {None}
    if len(machines) > 1:
        notes.append("the runs come from different machines (" + "; ".join(sorted(machines))
                     + "): pass --results to rank within one")
    eq_verdicts: dict[str, list[tuple[str, str]]] = {}
    for d in dirs:
        for (m, b), verdict in equivalence_verdicts(equivalence.get(d)).items():
            if m == model:
                eq_verdicts.setdefault(b, []).append(verdict)
    sbc_rows = {} if sbc is None else {r["backend"]: r for _, r in sbc[sbc["model"] == model].iterrows()}

    ranked, excluded = [], {}
    for backend in backend_order(rows["backend"].unique()):
        mine = rows[rows["backend"] == backend]
        ok = mine[mine["status"] == "ok"]
        reasons, warnings = [], []
        bad = mine[mine["status"] != "ok"]
        if len(bad):
            counts = ", ".join(f"{s} {n}/{len(mine)}" for s, n in bad["status"].value_counts().items())
            reasons.append(f"{counts} runs: {first_line(bad.iloc[0]['error'], 120) or bad.iloc[0]['status']}")
        verdicts = eq_verdicts.get(backend, [])
        failing = [d for v, d in verdicts if v != "pass"]
        if not verdicts:
            reasons.append("no equivalence result (no equivalence.csv covering it)")
        elif failing:
            reasons.append(f"equivalence fail: {failing[0]}")
        srow = sbc_rows.get(backend)
        if srow is None:
            (warnings if allow_missing_sbc else reasons).append("no SBC result")
        elif srow["verdict"] != "pass":
            fq = srow.get("failed_quantities")
            fq = "" if fq is None or (isinstance(fq, float) and math.isnan(fq)) or not str(fq).strip() else f" ({fq})"
            why = srow.get("verdict_reason")
            why = f": {why}" if isinstance(why, str) and why.strip() else ""
            reasons.append(f"SBC {srow['verdict']}{fq}{why}")
        if len(ok):
            reasons += _diagnostics(ok)
        if reasons:
            excluded[backend] = reasons
            continue
        num = ok[["compile_s", "warmup_s", "sampling_s", "ess_bulk_min", "ess_per_s"]].apply(pd.to_numeric, errors="coerce")
        per_target = num["sampling_s"] * target_ess / num["ess_bulk_min"]
        t = num["compile_s"] + num["warmup_s"] + per_target
        hits = ok["cache_hit"].map(lambda v: v is True or str(v).lower() == "true") if "cache_hit" in ok else None
        known = ok["cache_hit"].map(lambda v: str(v).lower() in ("true", "false")) if "cache_hit" in ok else None
        cache = f"{int(hits.sum())}/{int(known.sum())} cached" if known is not None and known.any() else ""
        ranked.append(Candidate(backend, len(ok), float(num["ess_per_s"].median()), float(t.median()),
                                float(num["compile_s"].median()), float(num["warmup_s"].median()),
                                float(per_target.median()), warnings, cache))
    return Recommendation(model, device, size, target_ess, dirs, list(sbc_sources or []), ranked, excluded, notes)


def _f(value: float, spec: str) -> str:
    return "-" if value is None or not math.isfinite(value) else spec.format(value)


def markdown(rec: Recommendation) -> str:
    where = f"{rec.device}" + (f", size {rec.size}" if rec.size else "")
    lines = [f"## Backend recommendation: {rec.model} ({where})", ""]
    lines.append(f"From {len(rec.sources)} run director{'y' if len(rec.sources) == 1 else 'ies'}: "
                 + ", ".join(f"`{d}`" for d in rec.sources) + ".")
    lines.append("SBC from: " + (", ".join(f"`{d}`" for d in rec.sbc_sources) if rec.sbc_sources else "none found") + ".")
    for note in rec.notes:
        lines.append(f"Note: {note}.")
    lines.append("")
    if rec.ranked:
        best_ess, best_time = rec.by_ess_per_s()[0], rec.by_time()[0]
        if best_ess.backend == best_time.backend:
            lines.append(f"**Recommended: {best_ess.backend}** (highest ESS/s and shortest time to "
                         f"{rec.target_ess} effective draws including compile).")
        else:
            lines.append(f"**Recommended: {best_ess.backend}** for long or repeated runs (highest ESS/s); "
                         f"**{best_time.backend}** for one-off runs (shortest time to {rec.target_ess} effective "
                         f"draws including compile).")
        lines += ["", "### By ESS per second of sampling", "",
                  "| rank | backend | ESS/s (median) | runs | warnings |", "|---|---|---|---|---|"]
        for i, c in enumerate(rec.by_ess_per_s(), 1):
            lines.append(f"| {i} | {c.backend} | {_f(c.ess_per_s, '{:,.0f}')} | {c.runs} | {'; '.join(c.warnings)} |")
        lines += ["", f"### By time to {rec.target_ess} effective draws, compile included", "",
                  f"compile + warm-up + sampling time x {rec.target_ess} / min bulk ESS; medians over runs. Compile "
                  "time is as measured: runs that found a warm compile cache (\"cached\") compile in a fraction "
                  "of the cold time. Process start-up and imports are not counted.", "",
                  f"| rank | backend | time to {rec.target_ess} ESS | compile | warm-up | "
                  f"sampling for {rec.target_ess} ESS |",
                  "|---|---|---|---|---|---|"]
        for i, c in enumerate(rec.by_time(), 1):
            compile_text = _f(c.compile_s, '{:.2f} s') + (f" ({c.cache})" if c.cache else "")
            lines.append(f"| {i} | {c.backend} | {_f(c.time_to_target_s, '{:.2f} s')} | {compile_text} | "
                         f"{_f(c.warmup_s, '{:.2f} s')} | {_f(c.sampling_per_target_s, '{:.2f} s')} |")
    else:
        lines.append("**No backend qualifies**: every backend with results was excluded (see below).")
    if rec.excluded:
        lines += ["", "### Excluded", "", "| backend | reason |", "|---|---|"]
        for backend, reasons in rec.excluded.items():
            lines.append(f"| {backend} | {'; '.join(r.replace('|', '/') for r in reasons)} |")
    lines += ["", "Qualifying means: every run ok, equivalence pass, SBC pass, no divergences, "
              f"median R-hat <= {RHAT_MAX}, median bulk ESS >= {ESS_MIN}."]
    return "\n".join(lines) + "\n"
