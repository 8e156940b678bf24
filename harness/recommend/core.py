"""Which backend for this model? Rank the qualifying backends from stored results.

A backend qualifies for a model on a device when, over every stored run of that model x size x device:

* every one of its runs finished (status ok) - a backend that failed, timed out or crashed even once
  is excluded with the error;
* its log density agrees with the scipy reference in the runs' ``equivalence.csv``;
* its accuracy verdict against the model's reference posterior (``accuracy`` column of the runs,
  ``harness.accuracy``) is not FAIL in any run (REVIEW and "no reference" are warnings);
* its simulation-based calibration verdict is ``pass`` with adequate power (it detects a 0.5-sd
  shift with 80% probability) or ``pass (flag not confirmed)`` (a first-stage flag that fresh data
  sets did not confirm). ``pass (weak)`` is "not yet validated" and excludes, as do ``fail``,
  ``flagged`` and ``inconclusive``; no SBC result excludes too, unless ``allow_missing_sbc``: then
  it is ranked with a warning. Where several SBC directories cover a model x backend, the one with
  most usable replicates wins (never the newest); directories are never pooled, so no replicate
  counts twice (``select_sbc``);
* its diagnostics are clean: no divergent transition in any run, median max R-hat <= 1.01 (runs
  with more than one chain) and median min bulk ESS >= 100.

Qualifying backends are ranked twice, each with a distribution-free interval for the median over
repeats (order statistics: the narrowest [x_(j), x_(n+1-j)] whose coverage, from Binomial(n, 1/2),
is at least 95%; with 3-5 repeats only [min, max] is possible, with coverage 75%, 88%, 94%):

* by ESS/s: median over runs of min bulk ESS / sampling seconds;
* by the time to ``target_ess`` (1000) effective draws including compile, per run
  ``compile_s + warmup_s + sampling_s * target_ess / ess_bulk_min`` and the median over runs.
  Compile and warm-up are fixed costs paid once; the sampling time scales with the effective
  draws wanted. ``compile_s`` is as measured: a warm compile cache makes it small.

A backend's rank is 1 + the number of backends whose interval lies entirely on the better side of
its own, so backends with overlapping intervals share a rank and are reported as tied. With fewer
than ``MIN_REPEATS`` (3) repeats for any qualifying backend the tables are shown but no backend is
recommended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.loaders import (
    ESS_MIN,
    RESULTS_ROOT,
    RHAT_MAX,
    backend_order,
    equivalence_verdicts,
    first_line,
    load_equivalence,
    load_run,
    manifest_of,
)
from harness.results import ResultsError
from harness.tables import fmt, markdown_table

TARGET_ESS = 1000
MIN_REPEATS = 3
INTERVAL_LEVEL = 0.95
from harness.verdicts import QUALIFYING_SBC, worst_accuracy  # noqa: E402


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
    ess_per_s_interval: tuple[float, float] = (math.nan, math.nan)
    time_interval: tuple[float, float] = (math.nan, math.nan)
    interval_coverage: float = math.nan
    accuracy: str = ""
    sbc: str = ""


def median_interval(values, level: float = INTERVAL_LEVEL) -> tuple[float, float, float]:
    """(low, high, coverage) of a distribution-free interval for the median of ``values``.

    [x_(j), x_(n+1-j)] covers the median with probability 1 - 2 P(Binomial(n, 1/2) <= j - 1); the
    largest j reaching ``level`` is used, else j = 1 (min and max) with its lower coverage.
    """
    from scipy import stats

    x = np.sort(np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    if n == 1:
        return float(x[0]), float(x[0]), 0.0
    best = 1
    for j in range(1, n // 2 + 1):
        if 1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5) >= level:
            best = j
    coverage = 1.0 - 2.0 * stats.binom.cdf(best - 1, n, 0.5)
    return float(x[best - 1]), float(x[n - best]), float(coverage)


def interval_ranks(intervals: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """1 + the number of others whose interval lies entirely on the better side: overlaps share a rank."""
    out = []
    for lo, hi in intervals:
        if higher_is_better:
            better = sum(1 for o_lo, _ in intervals if o_lo > hi)
        else:
            better = sum(1 for _, o_hi in intervals if o_hi < lo)
        out.append(1 + better)
    return out


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


def sbc_status(row) -> tuple[str, str]:
    """(verdict under the current rules, why it does not qualify or ""), also for summaries written
    before verdicts stated power and confirmation (their "fail" was an unconfirmed flag)."""
    from harness.sbc import power

    def get(key, default=None):
        v = row.get(key, default)
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else v

    verdict = str(get("verdict", "inconclusive")).strip().lower()
    if get("screen_verdict") is None:  # a summary from before stated power and confirmation
        n = int(get("ok", get("sims", 0)) or 0)
        alpha, band = float(get("alpha", 0.05)), get("band_prob")
        q = int(round(alpha / (1.0 - float(band)))) if band is not None and float(band) < 1 else None
        shift = power.verdict_power(n, int(get("kept", 39)), alpha, q) if q else math.nan
        if verdict == "fail":
            verdict = "flagged (not confirmed)"
        elif verdict == "pass":
            verdict = "pass" if power.adequate(shift) else "pass (weak)"
        row = {**dict(row), "power_shift": shift}
    if verdict in QUALIFYING_SBC:
        return verdict, ""
    fq = get("failed_quantities", "")
    fq = f" ({fq})" if str(fq).strip() else ""
    why = get("verdict_reason", "")
    if verdict.startswith("pass (weak"):
        shift = get("power_shift", math.nan) if "flag" not in verdict else get("confirm_power_shift", math.nan)
        n = get("ok", get("sims", "?")) if "flag" not in verdict else get("confirm_ok", "?")
        detail = (f"detects a shift of {float(shift):.2f} posterior sd with 80% power at {n} replicates"
                  if shift is not None and math.isfinite(float(shift)) else "power unknown")
        return verdict, f"SBC {verdict}: not yet validated ({detail}; needs 0.5 sd: run more replicates)"
    if verdict.startswith("flagged"):
        return verdict, f"SBC {verdict}{fq}: rerun with `python -m harness sbc --confirm`"
    return verdict, f"SBC {verdict}{fq}" + (f": {why}" if isinstance(why, str) and why.strip() else "")


def _accuracy(ok: pd.DataFrame) -> tuple[str, list[str], list[str]]:
    """(worst verdict over runs, exclusion reasons, warnings) from the runs' ``accuracy`` column."""
    if "accuracy" not in ok or ok["accuracy"].isna().all():
        return "", [], ["no accuracy verdict in the runs"]
    values = ok["accuracy"].fillna("no reference").astype(str)
    worst = worst_accuracy(values)
    pick = ok[values == worst].iloc[0]
    where = ""
    if "accuracy_worst" in ok and isinstance(pick.get("accuracy_worst"), str) and pick.get("accuracy_worst"):
        where = f": {pick['accuracy_worst']} z = {float(pick.get('accuracy_z', math.nan)):.2f}"
    count = f"{int((values == worst).sum())}/{len(values)} runs"
    if worst == "FAIL":
        return worst, [f"accuracy FAIL against the reference posterior ({count}{where})"], []
    if worst == "REVIEW":
        return worst, [], [f"accuracy REVIEW ({count}{where})"]
    if worst == "no reference":
        return worst, [], ["accuracy: no reference"]
    return worst, [], []


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

    def ess_ranks(self) -> dict[str, int]:
        order = self.by_ess_per_s()
        return dict(zip((c.backend for c in order),
                        interval_ranks([c.ess_per_s_interval for c in order], higher_is_better=True)))

    def time_ranks(self) -> dict[str, int]:
        order = self.by_time()
        return dict(zip((c.backend for c in order),
                        interval_ranks([c.time_interval for c in order], higher_is_better=False)))

    @property
    def rankable(self) -> bool:
        return bool(self.ranked) and all(c.runs >= MIN_REPEATS for c in self.ranked)


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
        return get_model(model).size_label()
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
    sbc = select_sbc(sbc)
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
        if len(ok):
            accuracy, acc_reasons, acc_warnings = _accuracy(ok)
            reasons += acc_reasons
            warnings += acc_warnings
        else:
            accuracy = ""
        srow = sbc_rows.get(backend)
        sbc_verdict = ""
        if srow is None:
            (warnings if allow_missing_sbc else reasons).append("no SBC result")
        else:
            sbc_verdict, why = sbc_status(srow)
            if why:
                reasons.append(why)
        if len(ok):
            reasons += _diagnostics(ok)
        if reasons:
            excluded[backend] = reasons
            continue
        num = ok[["compile_s", "warmup_s", "sampling_s", "ess_bulk_min", "ess_per_s"]].apply(pd.to_numeric, errors="coerce")
        per_target = num["sampling_s"] * target_ess / num["ess_bulk_min"]
        t = num["compile_s"] + num["warmup_s"] + per_target
        cache = ""
        if "cache_hit" in ok:
            hits = ok["cache_hit"].map(lambda v: v is True or str(v).lower() == "true")
            known = ok["cache_hit"].map(lambda v: str(v).lower() in ("true", "false"))
            cache = f"{int(hits.sum())}/{int(known.sum())} cached" if known.any() else ""
        e_lo, e_hi, coverage = median_interval(num["ess_per_s"].tolist())
        t_lo, t_hi, _ = median_interval(t.tolist())
        ranked.append(Candidate(backend, len(ok), float(num["ess_per_s"].median()), float(t.median()),
                                float(num["compile_s"].median()), float(num["warmup_s"].median()),
                                float(per_target.median()), warnings, cache, (e_lo, e_hi), (t_lo, t_hi), coverage,
                                accuracy, sbc_verdict))
    few = [c.backend for c in ranked if c.runs < MIN_REPEATS]
    if few:
        notes.append(f"too few repeats to rank: {', '.join(few)} with fewer than {MIN_REPEATS} "
                     f"(run with `--repeats {MIN_REPEATS}` or more); the tables are for information only")
    return Recommendation(model, device, size, target_ess, dirs, list(sbc_sources or []), ranked, excluded, notes)


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
        ess_ranks, time_ranks = rec.ess_ranks(), rec.time_ranks()
        top_ess = [c.backend for c in rec.by_ess_per_s() if ess_ranks[c.backend] == 1]
        top_time = [c.backend for c in rec.by_time() if time_ranks[c.backend] == 1]

        def names(group):
            return group[0] if len(group) == 1 else "tied: " + ", ".join(group)

        if not rec.rankable:
            lines.append(f"**Not ranked**: fewer than {MIN_REPEATS} repeats for "
                         + ", ".join(c.backend for c in rec.ranked if c.runs < MIN_REPEATS)
                         + "; run more repeats before choosing.")
        elif top_ess == top_time:
            lines.append(f"**Recommended: {names(top_ess)}** (highest ESS/s and shortest time to "
                         f"{rec.target_ess} effective draws including compile"
                         + ("; their intervals overlap" if len(top_ess) > 1 else "") + ").")
        else:
            lines.append(f"**Recommended: {names(top_ess)}** for long or repeated runs (highest ESS/s); "
                         f"**{names(top_time)}** for one-off runs (shortest time to {rec.target_ess} effective "
                         f"draws including compile)." + (" Tied backends have overlapping intervals."
                                                         if len(top_ess) > 1 or len(top_time) > 1 else ""))
        cov = [c.interval_coverage for c in rec.ranked if math.isfinite(c.interval_coverage)]
        lines += ["", "Intervals: distribution-free intervals for the median over repeats (order statistics; "
                  f"coverage {min(cov):.0%} or more)." if cov else "",
                  "Backends with overlapping intervals share a rank (tied).",
                  "", "### By ESS per second of sampling", ""]
        rows = []
        for c in rec.by_ess_per_s():
            lo, hi = c.ess_per_s_interval
            rows.append([ess_ranks[c.backend], c.backend, fmt(c.ess_per_s, "{:,.0f}"),
                         f"{fmt(lo, '{:,.0f}')}-{fmt(hi, '{:,.0f}')}", c.runs, c.accuracy or "-", c.sbc or "-",
                         "; ".join(c.warnings)])
        lines.append(markdown_table(rows, ["rank", "backend", "ESS/s (median)", "interval", "runs", "accuracy", "SBC",
                                           "warnings"]))
        lines += ["", f"### By time to {rec.target_ess} effective draws, compile included", "",
                  f"compile + warm-up + sampling time x {rec.target_ess} / min bulk ESS; medians over runs. Compile "
                  "time is as measured: runs that found a warm compile cache (\"cached\") compile in a fraction "
                  "of the cold time. Process start-up and imports are not counted.", ""]
        rows = []
        for c in rec.by_time():
            compile_text = fmt(c.compile_s, '{:.2f} s') + (f" ({c.cache})" if c.cache else "")
            lo, hi = c.time_interval
            rows.append([time_ranks[c.backend], c.backend, fmt(c.time_to_target_s, "{:.2f} s"),
                         f"{fmt(lo, '{:.2f}')}-{fmt(hi, '{:.2f} s')}", compile_text, fmt(c.warmup_s, "{:.2f} s"),
                         fmt(c.sampling_per_target_s, "{:.2f} s")])
        lines.append(markdown_table(rows, ["rank", "backend", f"time to {rec.target_ess} ESS", "interval", "compile",
                                           "warm-up", f"sampling for {rec.target_ess} ESS"]))
    else:
        lines.append("**No backend qualifies**: every backend with results was excluded (see below).")
    if rec.excluded:
        lines += ["", "### Excluded", "",
                  markdown_table([[backend, "; ".join(reasons)] for backend, reasons in rec.excluded.items()],
                                 ["backend", "reason"])]
    lines += ["", "Qualifying means: every run ok, equivalence pass, accuracy not FAIL, SBC pass with adequate "
              "power (detects a 0.5-sd shift with 80% probability) or a first-stage flag not confirmed on fresh "
              f"data sets, no divergences, median R-hat <= {RHAT_MAX}, median bulk ESS >= {ESS_MIN}."]
    return "\n".join(lines) + "\n"
