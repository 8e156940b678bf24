"""Compare two benchmark runs: the rows (timing, deterministic and correctness metrics) and provenance.

Cells are grouped by model x size x backend x device. Every comparison is one ``Row`` with a
verdict; ``Comparison.regressions`` are the rows that fail the gate.

Timing (``TIMING_METRICS``): the samples are the repeats that finished (status ok); see
``harness.compare.stats`` for the rule (exact rank test, advisory with too few repeats) and the
minimum detectable ratio shown per row. ``sampling_per_grad`` (sampling seconds over the sampling
phase's gradient evaluations) is derived here: it takes out most of the spread that different
seeds put into ``sampling_s`` (deeper or shallower trees). ``sample_cpu_s`` (CPU seconds of the
sampling call, warm-up and sampling, over the cell's threads and child processes) hardly moves when
other work loads the machine, where wall times do: on a shared 2-core machine at a load of 8 its
spread between repeats was 1.2-1.4x against 2-6x for the wall times, so it is the signal that
catches a 1.3-1.4x slowdown at 6 repeats there. A metric absent from both runs (older results
have no ``sample_cpu_s``) is left out. ``compile_s`` and ``total_s`` depend on whether the
compile cache was warm, so they are compared within one cache state present on both sides (cache
hits preferred). A timing whose medians differ by less than ``min_seconds`` (the clock resolution
floor; Stan reports whole milliseconds) is never a regression.

Deterministic: with the same seeds, settings and packages on a CPU, the draws (``draws_digest``)
and gradient counts (``n_grad``, ``n_grad_warmup``) are reproduced exactly, so any difference is
reported exactly, repeat by repeat. When the backend's library versions differ between the sides, a
change is listed as *expected* (an upgrade legitimately changes the draws) and never fails. When
they are the same, a change is reported as *changed*; ``fail_on_deterministic`` makes it a
regression (use it when the packages are pinned and only the harness or a model changed).

Correctness: a backend whose runs were all ok and now are not; divergences where there were none;
an equivalence pair that passed and now fails; an SBC verdict that was pass and is now fail.

Provenance: different machine, GPU, Python, platform, package or backend versions, thread
environment or sampler settings are warnings (``strict``: errors). The host name is not compared
(CI runners get a new one every job).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from harness.compare.stats import DEFAULT_ALPHA, DEFAULT_FACTOR, decisive, repeats_needed, timing_test
from harness.loaders import first_line, load_equivalence, load_run
from harness.tables import fmt_change, fmt_ratio, fmt_unit

# (column, higher is better, unit)
TIMING_METRICS = [
    ("sampling_s", False, "s"),
    ("sampling_per_grad", False, "us"),  # derived: sampling_s / n_grad
    ("sample_cpu_s", False, "s"),        # CPU seconds of the whole sampling call (all threads, child processes)
    ("warmup_s", False, "s"),
    ("compile_s", False, "s"),
    ("total_s", False, "s"),
    ("ess_per_s", True, "1/s"),
]
CACHE_SENSITIVE = ("compile_s", "total_s")
DETERMINISTIC_METRICS = ("draws_digest", "n_grad", "n_grad_warmup")
SETTINGS_KEYS = ("chains", "warmup", "draws", "target_accept", "max_treedepth", "device", "cores", "root_seed")
MACHINE_KEYS = ("cpu", "cpu_count", "gpu", "python", "platform")
DEFAULT_MIN_SECONDS = 0.005

# verdicts
OK, REGRESSION, IMPROVED, CHANGED, NOT_COMPARED, MISSING, NEW, STILL_BAD = (
    "ok", "REGRESSION", "improved", "changed", "not compared", "missing in new", "new", "not ok in both")
ADVISORY = "worse (advisory)"      # past the factor, but too few repeats for the test to decide: never fails
EXPECTED = "changed (expected)"    # a deterministic metric changed and the library versions differ

KEY = ["model", "size", "backend", "device"]
CellKey = tuple[str, str, str, str]  # a cell: (model, size, backend, device)


@dataclass
class Row:
    model: str
    size: str
    backend: str
    device: str
    kind: str      # timing | deterministic | correctness
    metric: str
    base: str
    new: str
    change: str
    verdict: str
    detail: str = ""
    detectable: str = ""  # timing rows: the minimum detectable ratio at these repeats and this spread


@dataclass
class Comparison:
    base_dir: Path
    new_dir: Path
    rows: list[Row] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = False

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == REGRESSION]

    @property
    def failed(self) -> bool:
        return bool(self.regressions) or (self.strict and bool(self.warnings))


# ---------------------------------------------------------------- helpers


def _cache_state(value) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return bool(value)
    return None


def _groups(frame: pd.DataFrame) -> dict[CellKey, pd.DataFrame]:
    return {cast(CellKey, key): g for key, g in frame.groupby(KEY, sort=False, dropna=False)}


def _cache_subset(base: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The rows of one cache state present on both sides (hits preferred), and a note."""
    bs, ns = base["cache_hit"].map(_cache_state), new["cache_hit"].map(_cache_state)
    if bs.isna().all() and ns.isna().all():
        return base, new, ""
    for state, label in ((True, "compile-cache hits"), (False, "compile-cache misses")):
        if (bs == state).any() and (ns == state).any():
            mixed = not ((bs == state).all() and (ns == state).all())
            return base[bs == state], new[ns == state], (label + " only" if mixed else "")
    b = "hit" if (bs == True).any() else "miss"  # noqa: E712  (object column of True/False/None)
    n = "hit" if (ns == True).any() else "miss"  # noqa: E712
    return base.iloc[0:0], new.iloc[0:0], f"compile cache {b} in baseline, {n} in new: not comparable"


# ---------------------------------------------------------------- the three kinds of metric


def timing_rows(key: CellKey, base: pd.DataFrame, new: pd.DataFrame, factor: float, alpha: float,
                min_seconds: float) -> list[Row]:
    rows = []
    bok, nok = with_derived(base[base["status"] == "ok"]), with_derived(new[new["status"] == "ok"])
    for metric, higher, unit in TIMING_METRICS:
        b, n, note = bok, nok, ""
        if metric in CACHE_SENSITIVE and "cache_hit" in base:
            b, n, note = _cache_subset(bok, nok)
        bv = pd.to_numeric(b[metric], errors="coerce").dropna() if metric in b else pd.Series(dtype=float)
        nv = pd.to_numeric(n[metric], errors="coerce").dropna() if metric in n else pd.Series(dtype=float)
        if bv.empty and nv.empty and metric not in ("sampling_s", "warmup_s", "compile_s", "total_s", "ess_per_s"):
            continue  # an optional metric neither run recorded
        if bv.empty or nv.empty:
            why = note or ("no finished runs in " + ("baseline" if bv.empty else "new"))
            rows.append(Row(*key, "timing", metric, fmt_unit(bv.median() if len(bv) else math.nan, unit),
                            fmt_unit(nv.median() if len(nv) else math.nan, unit), "-", NOT_COMPARED, why))
            continue
        res = timing_test(bv, nv, factor=factor, alpha=alpha, higher_is_better=higher)
        detail = res.detail + (f"; {note}" if note else "")
        verdict = REGRESSION if res.regression else (IMPROVED if res.improvement else OK)
        if res.advisory and res.ratio > factor:
            verdict = ADVISORY
        if verdict != OK:
            # the clock-resolution floor: seconds for time metrics, the sampling seconds behind ESS/s
            if unit == "s":
                delta = abs(res.new_median - res.base_median)
            else:
                delta = abs(pd.to_numeric(nok["sampling_s"], errors="coerce").median()
                            - pd.to_numeric(bok["sampling_s"], errors="coerce").median())
            if delta < min_seconds:
                detail += f"; not flagged: medians {delta * 1000:.1f} ms apart, below the {min_seconds * 1000:g} ms floor"
                verdict = OK
        rows.append(Row(*key, "timing", metric, fmt_unit(res.base_median, unit), fmt_unit(res.new_median, unit),
                        fmt_change(res.base_median, res.new_median), verdict, detail, fmt_ratio(res.detectable)))
    return rows


def with_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``sampling_per_grad`` (seconds per gradient evaluation in the sampling phase)."""
    if "sampling_s" not in frame or "n_grad" not in frame:
        return frame.assign(sampling_per_grad=np.nan)
    grads = pd.to_numeric(frame["n_grad"], errors="coerce")
    per = pd.to_numeric(frame["sampling_s"], errors="coerce") / grads.where(grads > 0)
    return frame.assign(sampling_per_grad=per)


def _backend_versions(frame: pd.DataFrame) -> dict:
    versions = _cell_versions(frame)
    return next(iter(versions.values()), {}) if versions else {}


def deterministic_rows(key: CellKey, base: pd.DataFrame, new: pd.DataFrame, fail_on_change: bool) -> list[Row]:
    """Cell by cell (same repeat, same seed, same sampler settings, both ok): exact equality.

    A change is *expected* (never a failure) when the backend's library versions differ between the
    sides, and *changed* (a regression with ``fail_on_change``) when they are the same.
    """
    def by_repeat(frame):
        ok = frame[(frame["status"] == "ok") & frame["repeat"].notna()]
        return ok.assign(repeat=ok["repeat"].astype(int)).set_index("repeat")

    bok, nok = by_repeat(base), by_repeat(new)
    common = sorted(set(bok.index) & set(nok.index))
    rows: list[Row] = []
    settings = [c for c in ("seed", "chains", "warmup", "draws", "target_accept", "max_treedepth") if c in bok and c in nok]
    comparable: list[tuple[int, list[str]]] = []
    skipped: list[tuple[int, list[str]]] = []
    for rep in common:
        b, n = bok.loc[[rep]].iloc[0], nok.loc[[rep]].iloc[0]
        differing = [c for c in settings if str(b[c]) != str(n[c])]
        (skipped if differing else comparable).append((rep, differing))
    if not comparable:
        why = ("no repeat finished on both sides" if not common
               else f"seeds or settings differ ({', '.join(sorted({c for _, d in skipped for c in d}))})")
        return [Row(*key, "deterministic", "draws / gradients", "-", "-", "-", NOT_COMPARED, why)]
    reps = [r for r, _ in comparable]
    bver, nver = _backend_versions(base), _backend_versions(new)
    version_diff = [f"{k} {bver.get(k, 'absent')} -> {nver.get(k, 'absent')}"
                    for k in sorted(set(bver) | set(nver)) if bver.get(k) != nver.get(k)]
    changed_verdict = EXPECTED if version_diff else (REGRESSION if fail_on_change else CHANGED)
    why = f" (expected: {', '.join(version_diff)})" if version_diff else " (same library versions)"
    for metric in DETERMINISTIC_METRICS:
        if metric not in bok or metric not in nok:
            continue
        pairs = [(r, bok.loc[[r]].iloc[0][metric], nok.loc[[r]].iloc[0][metric]) for r in reps]
        if metric == "draws_digest":
            pairs = [(r, str(b), str(n)) for r, b, n in pairs if isinstance(b, str) and isinstance(n, str)]
            if not pairs:
                continue
            differ = [r for r, b, n in pairs if b != n]
            base_text = pairs[0][1] if len(pairs) == 1 else f"{len(pairs)} runs"
            new_text = pairs[0][2] if len(pairs) == 1 else f"{len(pairs)} runs"
            if differ:
                rows.append(Row(*key, "deterministic", metric, base_text, new_text, f"{len(differ)}/{len(pairs)} differ",
                                changed_verdict, "draws differ in repeat " + ", ".join(map(str, differ)) + why))
            else:
                rows.append(Row(*key, "deterministic", metric, base_text, new_text, "identical", OK,
                                f"bit-identical draws in {len(pairs)} runs"))
            continue
        num = [(r, float(b), float(n)) for r, b, n in pairs
               if pd.notna(pd.to_numeric(b, errors="coerce")) and pd.notna(pd.to_numeric(n, errors="coerce"))]
        if not num:
            continue
        bsum, nsum = sum(b for _, b, _ in num), sum(n for _, _, n in num)
        diff = [(r, b, n) for r, b, n in num if b != n]
        if diff:
            detail = "; ".join(f"r{r}: {int(b):,} -> {int(n):,}" for r, b, n in diff[:6]) + (" ..." if len(diff) > 6 else "")
            detail += why
            rows.append(Row(*key, "deterministic", metric, f"{int(bsum):,}", f"{int(nsum):,}",
                            f"{int(nsum - bsum):+,} ({fmt_change(bsum, nsum)})", changed_verdict, detail))
        else:
            rows.append(Row(*key, "deterministic", metric, f"{int(bsum):,}", f"{int(nsum):,}", "identical", OK,
                            f"sum over {len(num)} runs"))
    if skipped:
        rows.append(Row(*key, "deterministic", "draws / gradients", "-", "-", "-", NOT_COMPARED,
                        f"repeats {', '.join(str(r) for r, _ in skipped)}: seeds or settings differ"))
    return rows


def status_rows(key: CellKey, base: pd.DataFrame, new: pd.DataFrame) -> list[Row]:
    rows = []
    b_ok, n_ok = (base["status"] == "ok").sum(), (new["status"] == "ok").sum()
    b_txt, n_txt = f"{b_ok}/{len(base)} ok", f"{n_ok}/{len(new)} ok"
    bad_new = new[new["status"] != "ok"]
    if b_ok == len(base) and len(bad_new):
        first = bad_new.iloc[0]
        rows.append(Row(*key, "correctness", "status", b_txt, n_txt, "-", REGRESSION,
                        f"{first['status']}: {first_line(first['error'], 150)}"))
    elif b_ok < len(base) and not len(bad_new):
        rows.append(Row(*key, "correctness", "status", b_txt, n_txt, "-", IMPROVED, "every run finishes now"))
    elif b_ok < len(base):
        first = bad_new.iloc[0]
        rows.append(Row(*key, "correctness", "status", b_txt, n_txt, "-", STILL_BAD,
                        f"{first['status']}: {first_line(first['error'], 150)}"))
    else:
        rows.append(Row(*key, "correctness", "status", b_txt, n_txt, "-", OK))
    bd = pd.to_numeric(base.loc[base["status"] == "ok", "divergences"], errors="coerce").fillna(0)
    nd = pd.to_numeric(new.loc[new["status"] == "ok", "divergences"], errors="coerce").fillna(0)
    if len(bd) and len(nd):
        bsum, nsum = int(bd.sum()), int(nd.sum())
        if bsum == 0 and nsum > 0:
            verdict, detail = REGRESSION, f"new divergences in {int((nd > 0).sum())}/{len(nd)} runs"
        elif bsum > 0 and nsum == 0:
            verdict, detail = IMPROVED, "no divergences any more"
        elif bsum != nsum:
            verdict, detail = CHANGED, "divergent in baseline already"
        else:
            verdict, detail = OK, ""
        rows.append(Row(*key, "correctness", "divergences", f"{bsum:,}", f"{nsum:,}",
                        f"{nsum - bsum:+,}" if bsum != nsum else "-", verdict, detail))
    return rows


def equivalence_rows(base_eq: pd.DataFrame | None, new_eq: pd.DataFrame | None,
                     models: list[str]) -> tuple[list[Row], list[str]]:
    notes = []
    if base_eq is None or new_eq is None:
        missing = [name for name, t in (("baseline", base_eq), ("new", new_eq)) if t is None]
        notes.append(f"equivalence not compared: no equivalence.csv in {' and '.join(missing)}")
        return [], notes
    rows = []

    def pairs(table):
        return {(r["model"], *sorted((str(r["a"]), str(r["b"])))): r for _, r in table.iterrows()}

    bp, np_ = pairs(base_eq), pairs(new_eq)
    for model in models:
        keys = sorted(k for k in set(bp) | set(np_) if k[0] == model)
        if not keys:
            continue
        flagged = []
        for k in keys:
            b, n = bp.get(k), np_.get(k)
            bs = b["status"] if b is not None else "absent"
            ns = n["status"] if n is not None else "absent"
            if bs == ns == "pass":
                continue
            if bs == "pass" and ns != "absent":
                verdict = REGRESSION
            elif ns == "pass" and bs != "absent":
                verdict = IMPROVED
            elif bs == ns:
                verdict = STILL_BAD
            else:
                verdict = CHANGED
            detail = first_line(n.get("error", "")) if n is not None and str(n.get("error", "")).strip() else ""
            if not detail and n is not None and ns != "pass":
                detail = f"max abs diff {n.get('max_abs_diff'):.3g} > tolerance {n.get('tolerance'):.3g}"
            flagged.append(Row(model, "", f"{k[1]} vs {k[2]}", "", "correctness", "equivalence", bs, ns, "-",
                               verdict, detail))
        if flagged:
            rows.extend(flagged)
        else:
            rows.append(Row(model, "", "all pairs", "", "correctness", "equivalence", "pass", "pass", "-", OK,
                            f"{len(keys)} pairs agree in both runs"))
    return rows, notes


def sbc_rows(base_sbc: pd.DataFrame | None, new_sbc: pd.DataFrame | None, models: list[str]) -> tuple[list[Row], list[str]]:
    if base_sbc is None or new_sbc is None:
        missing = [name for name, t in (("baseline", base_sbc), ("new", new_sbc)) if t is None]
        return [], [f"SBC not compared: no SBC summary for {' and '.join(missing)} (give --sbc-base/--sbc-new)"]
    rows = []
    b = {(r["model"], r["backend"]): r for _, r in base_sbc.iterrows()}
    n = {(r["model"], r["backend"]): r for _, r in new_sbc.iterrows()}
    for key in sorted(set(b) & set(n)):
        if models and key[0] not in models and key[0] not in set(new_sbc["model"]):
            continue
        bv, nv = b[key]["verdict"], n[key]["verdict"]
        if bv == "pass" and nv == "fail":
            verdict = REGRESSION
        elif bv == nv:
            verdict = OK if bv == "pass" else STILL_BAD
        elif nv == "pass":
            verdict = IMPROVED
        else:
            verdict = CHANGED  # e.g. pass -> inconclusive: worth a look, not proof of a bug
        detail = str(n[key].get("failed_quantities", "") or "")
        detail = "" if detail == "nan" else (f"failed quantities: {detail}" if detail else "")
        rows.append(Row(key[0], "", key[1], "", "correctness", "SBC verdict", bv, nv, "-", verdict, detail))
    return rows, []


# ---------------------------------------------------------------- provenance


def _cell_versions(frame: pd.DataFrame) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for _, r in frame.iterrows():
        v = r.get("versions")
        if isinstance(v, str) and v.strip().startswith("{"):
            try:
                out.setdefault(r["backend"], json.loads(v))
            except json.JSONDecodeError:
                continue
        elif isinstance(v, dict):
            out.setdefault(r["backend"], v)
    return out


def provenance_warnings(base_manifest: dict, new_manifest: dict, base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    out = []
    if not base_manifest or not new_manifest:
        which = " and ".join(n for n, m in (("baseline", base_manifest), ("new", new_manifest)) if not m)
        out.append(f"no manifest.json in {which}: machine, packages and settings cannot be checked")
    bm, nm = base_manifest.get("machine") or {}, new_manifest.get("machine") or {}
    for k in MACHINE_KEYS:
        if bm and nm and str(bm.get(k)) != str(nm.get(k)):
            out.append(f"machine {k}: {bm.get(k)!s} -> {nm.get(k)!s}")
    bp, np_ = base_manifest.get("packages") or {}, new_manifest.get("packages") or {}
    for k in sorted(set(bp) | set(np_)):
        if bp and np_ and bp.get(k) != np_.get(k):
            out.append(f"package {k}: {bp.get(k, 'absent')} -> {np_.get(k, 'absent')}")
    bv, nv = _cell_versions(base), _cell_versions(new)
    for backend in sorted(set(bv) & set(nv)):
        for k in sorted(set(bv[backend]) | set(nv[backend])):
            if bv[backend].get(k) != nv[backend].get(k) and f"package {k}:" not in " ".join(out):
                out.append(f"{backend} backend {k}: {bv[backend].get(k, 'absent')} -> {nv[backend].get(k, 'absent')}")
    bs, ns = base_manifest.get("settings") or {}, new_manifest.get("settings") or {}
    for k in SETTINGS_KEYS:
        if bs and ns and bs.get(k) != ns.get(k):
            out.append(f"setting {k}: {bs.get(k)} -> {ns.get(k)}")
    bt, nt = bs.get("thread_env") or {}, ns.get("thread_env") or {}
    for k in sorted(set(bt) | set(nt)):
        if (bt or nt) and bt.get(k) != nt.get(k):
            out.append(f"thread env {k}: {bt.get(k, 'unset')!r} -> {nt.get(k, 'unset')!r}")
    return out


# ---------------------------------------------------------------- the comparison


def compare_runs(base_dir: str | Path, new_dir: str | Path, *, factor: float = DEFAULT_FACTOR,
                 alpha: float = DEFAULT_ALPHA, min_seconds: float = DEFAULT_MIN_SECONDS,
                 fail_on_deterministic: bool = False, strict: bool = False,
                 base_sbc: pd.DataFrame | None = None, new_sbc: pd.DataFrame | None = None) -> Comparison:
    base, base_manifest = load_run(base_dir)
    new, new_manifest = load_run(new_dir)
    cmp = Comparison(Path(base_dir), Path(new_dir), strict=strict)
    cmp.warnings = provenance_warnings(base_manifest, new_manifest, base, new)
    bg, ng = _groups(base), _groups(new)
    few = set()
    for key in list(bg) + [k for k in ng if k not in bg]:
        if key not in ng:
            cmp.rows.append(Row(*key, "correctness", "cells", f"{len(bg[key])} runs", "none", "-", MISSING,
                                "in the baseline, not in the new run"))
            cmp.warnings.append(f"{'/'.join(str(k) for k in key if k)} is in the baseline but not in the new run")
            continue
        if key not in bg:
            cmp.rows.append(Row(*key, "correctness", "cells", "none", f"{len(ng[key])} runs", "-", NEW,
                                "not in the baseline: nothing to compare"))
            continue
        b, n = bg[key], ng[key]
        cmp.rows += status_rows(key, b, n)
        cmp.rows += timing_rows(key, b, n, factor, alpha, min_seconds)
        cmp.rows += deterministic_rows(key, b, n, fail_on_deterministic)
        nb, nn = (b["status"] == "ok").sum(), (n["status"] == "ok").sum()
        if not decisive(nb, nn, alpha):
            few.add(f"{key[0]}/{key[2]} (n={nb}/{nn})")
    models = list(dict.fromkeys(list(base["model"]) + list(new["model"])))
    eq_rows, eq_notes = equivalence_rows(load_equivalence(base_dir), load_equivalence(new_dir), models)
    sbc_r, sbc_notes = sbc_rows(base_sbc, new_sbc, models)
    cmp.rows += eq_rows + sbc_r
    cmp.notes += eq_notes + sbc_notes
    if few:
        cmp.notes.append(f"too few finished repeats for the exact test to reach p < {alpha:g} (it needs "
                         f"{repeats_needed(alpha)} a side), so these timings are advisory, never failing: "
                         + ", ".join(sorted(few)))
    return cmp
