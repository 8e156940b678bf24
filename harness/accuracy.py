"""The accuracy verdict: does a backend's posterior agree with the model's reference posterior, in
location *and* in spread?

For every scalar of the reference (free parameters and derived quantities, named like ``theta[0]``)
and every statistic ``s`` of ``STATISTICS`` (mean, sd, 5% and 95% quantiles)::

    z = (estimate - reference) / sqrt(se^2 + se_ref^2)

with the estimate's Monte Carlo standard error from the fit's own ESS (ArviZ's MCSE of the mean, of
the sd and of the quantiles, ``harness.diagnostics``) and the reference's from its ``summary.csv``.
The repeats of a model x backend are independent runs, so the verdict **pools** them: each statistic
is the mean of the repeats' estimates, its se ``sqrt(sum se_r^2) / R``. Per-repeat numbers stay in the
records and tables.

Two families of tests over all K scalars x 4 statistics, each Holm-adjusted at ``ACCURACY_ALPHA``:

* *significant*: two-sided, H0 "no difference";
* *practically large*: one-sided minimum-effect tests, H0 "|difference| <= threshold", with the
  threshold ``FAIL_SD`` (0.03) reference sd for the mean and the quantiles and ``FAIL_SCALE`` (5%) of
  the reference sd for the sd: statistic ``(|difference| - threshold) / se``. 0.03 sd is what makes a
  0.1-sd shift FAIL reliably at the default bench settings with 3 repeats (pooled bulk ESS ~6,000: se
  ~0.013 sd with a 40,000-ESS reference, (0.1 - 0.03) / 0.013 = 5.4 against Holm's first critical
  value 3.6 over 72 tests: power ~96%); at 0.05 sd the same shift FAILs about half the time.

* ``PASS``    no difference is significant;
* ``REVIEW``  some difference is significant, none is shown to be practically large (a small real
              bias, or MCSEs that are too optimistic: look at the fit);
* ``FAIL``    some difference is significantly larger than its threshold;
* ``no reference``  no stored reference for the model (or only at another size), or a ``REASON.md``.

Error rates, when the MCSEs are right: a correct backend gets REVIEW or worse with probability at most
1% (Holm controls the family-wise error rate of the first family), and FAIL with probability at most
1% even when some statistic is off by exactly its threshold (second family), far less when it is
right. Power: a difference of b (in units of the reference sd, or relative for the sd) is FAILed
with probability about ``P(Z > z_crit - (b - threshold) / se)``, se the combined standard error in
the same units; ``harness.accuracy.power`` computes it, and docs/accuracy.md tabulates it for the
mutants of ``tests/test_accuracy_mutants.py``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from harness import diagnostics
from harness.paths import reference_root  # noqa: F401 (re-exported)
from harness.stats import holm

ACCURACY_ALPHA = 0.01
FAIL_SD = 0.03  # mean and quantiles: a difference above 0.03 reference sd is practically large
FAIL_SCALE = 0.05  # sd: a relative difference above 5% is practically large
# a statistic whose ESS (the smallest over pooled repeats) is below MIN_ESS is not tested: its MCSE is too
# uncertain for the stated error rates (z-scores of correct fits ran 1.13-1.26 sd wide at ESS ~450)
MIN_ESS = 1000
STATISTICS = ("mean", "sd", "q05", "q95")
SUMMARY_FILE = "summary.csv"
PROVENANCE_FILE = "provenance.json"
DRAWS_FILE = "draws.npz"
REASON_FILE = "REASON.md"
SUMMARY_COLUMNS = ["parameter", "mean", "sd", "mcse_mean", "mcse_sd", "q05", "q50", "q95", "mcse_q05", "mcse_q95"]
STATS_COLUMNS = ["parameter", "statistic", "estimate", "se"]
VERDICTS = ("PASS", "REVIEW", "FAIL", "no reference", "low ESS")
_SE_COLUMN = {"mean": "mcse_mean", "sd": "mcse_sd", "q05": "mcse_q05", "q95": "mcse_q95"}


# ---------------------------------------------------------------- scalars and summaries


def scalar_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """``mu`` -> ["mu"]; ``theta`` (8,) -> ["theta[0]", ...]; ``beta`` (2, 3) -> ["beta[0,0]", ...] (row-major)."""
    if shape == ():
        return [name]
    return [f"{name}[{','.join(str(i) for i in idx)}]" for idx in np.ndindex(*shape)]


def flatten(draws: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """{name: (chain, draw, *shape)} -> (scalar names, (chain, draw, K) float64), variables in dict order."""
    names, parts = [], []
    for name, values in draws.items():
        values = np.asarray(values, dtype=np.float64)
        names += scalar_names(name, values.shape[2:])
        parts.append(values.reshape(values.shape[:2] + (-1,)))
    return names, np.concatenate(parts, axis=2)


def _per_scalar(values: dict, draws: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(values[name], dtype=np.float64).reshape(-1) for name in draws])


def summarise(draws: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per scalar: mean, sd, q05, q50, q95 and the MCSEs of mean, sd, q05 and q95 (from the
    draws' own ESS, ``harness.diagnostics``); ``SUMMARY_COLUMNS``."""
    names, x = flatten(draws)
    flat = x.reshape(-1, x.shape[2])
    mcse_mean = diagnostics.mcse_mean(draws)
    q05, se05 = diagnostics.quantile_and_mcse(draws, 0.05)
    q95, se95 = diagnostics.quantile_and_mcse(draws, 0.95)
    return pd.DataFrame({
        "parameter": names,
        "mean": flat.mean(axis=0),
        "sd": flat.std(axis=0, ddof=1),
        "mcse_mean": np.concatenate([np.asarray(mcse_mean[n].values, dtype=np.float64).reshape(-1) for n in draws]),
        "mcse_sd": _per_scalar(diagnostics.mcse_sd(draws), draws),
        "q05": _per_scalar(q05, draws), "q50": np.quantile(flat, 0.5, axis=0), "q95": _per_scalar(q95, draws),
        "mcse_q05": _per_scalar(se05, draws), "mcse_q95": _per_scalar(se95, draws),
    }, columns=SUMMARY_COLUMNS)


def statistic_ess(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{statistic: ESS per scalar (flattened, ``flatten`` order)}: ArviZ's "mean" ESS for the mean, the
    squared deviations' for the sd, the quantile ESS for q05 and q95 (what each MCSE rests on)."""
    out = {"mean": _per_scalar(diagnostics.ess(draws, "mean"), draws)}
    dev2 = {k: (np.asarray(v, dtype=np.float64) - np.asarray(v, dtype=np.float64).mean(axis=(0, 1))) ** 2
            for k, v in draws.items()}
    out["sd"] = _per_scalar(diagnostics.ess(dev2, "mean"), draws)
    for stat, prob in (("q05", 0.05), ("q95", 0.95)):
        out[stat] = _per_scalar(diagnostics.quantile_mcse_ess(draws, prob)[2], draws)
    return out


def cell_statistics(draws: dict[str, np.ndarray]) -> pd.DataFrame:
    """One fit's statistics in long form: parameter, statistic (``STATISTICS``), estimate, se, ess."""
    summary = summarise(draws)
    ess = statistic_ess(draws)
    frames = [pd.DataFrame({"parameter": summary["parameter"], "statistic": stat, "estimate": summary[stat],
                            "se": summary[_SE_COLUMN[stat]], "ess": ess[stat]}) for stat in STATISTICS]
    return pd.concat(frames, ignore_index=True)[[*STATS_COLUMNS, "ess"]]


def pool(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The repeats' statistics pooled: the mean of the estimates, se sqrt(sum se^2) / R, ``repeats`` R,
    ``ess`` the smallest repeat's ESS (NaN for statistics stored before the ESS was)."""
    if not tables:
        return pd.DataFrame(columns=[*STATS_COLUMNS, "repeats", "ess"])
    stacked = pd.concat(tables, ignore_index=True)
    if "ess" not in stacked:
        stacked["ess"] = np.nan
    grouped = stacked.groupby(["parameter", "statistic"], sort=False)
    out = grouped.agg(estimate=("estimate", "mean"), se2=("se", lambda s: float(np.sum(np.square(s)))),
                      repeats=("estimate", "size"), ess=("ess", lambda e: float(np.min(e)) if e.notna().all() else np.nan)
                      ).reset_index()
    out["se"] = np.sqrt(out["se2"]) / out["repeats"]
    return out[[*STATS_COLUMNS, "repeats", "ess"]]


# ---------------------------------------------------------------- the comparison


def compare(reference: pd.DataFrame, fit: pd.DataFrame, alpha: float = ACCURACY_ALPHA, fail_sd: float = FAIL_SD,
            fail_scale: float = FAIL_SCALE, min_ess: float = MIN_ESS) -> dict:
    """Verdict of ``fit`` (``cell_statistics`` or ``pool`` of them) against ``reference`` (a summary table).

    Returns {"accuracy", "accuracy_worst" ("tau (sd)"), "accuracy_statistic", "accuracy_z",
    "accuracy_diff_sd" (the difference in reference sd, or relative for the sd), "accuracy_scalars",
    "accuracy_repeats"}. A reference scalar the fit lacks makes the verdict FAIL.
    """
    ref = reference.set_index("parameter")
    fit = fit[fit["statistic"].isin(STATISTICS)]
    have = set(fit["parameter"])
    missing = [p for p in ref.index if p not in have]
    if missing:
        return {"accuracy": "FAIL", "accuracy_worst": missing[0], "accuracy_statistic": "", "accuracy_z": math.nan,
                "accuracy_diff_sd": math.nan, "accuracy_scalars": len(ref),
                "accuracy_note": f"missing scalars: {', '.join(missing[:5])}"}
    rows = fit[fit["parameter"].isin(ref.index)].copy()
    stats_ok = [s for s in STATISTICS if s in ref.columns and _SE_COLUMN[s] in ref.columns]
    rows = rows[rows["statistic"].isin(stats_ok)]
    low = (pd.to_numeric(rows["ess"], errors="coerce") < min_ess).to_numpy() if "ess" in rows else np.zeros(len(rows), bool)
    if low.all() and len(rows):
        worst = int(np.argmin(pd.to_numeric(rows["ess"], errors="coerce").to_numpy()))
        return {"accuracy": "low ESS", "accuracy_worst": f"{rows['parameter'].iloc[worst]} ({rows['statistic'].iloc[worst]})",
                "accuracy_statistic": str(rows["statistic"].iloc[worst]), "accuracy_z": math.nan,
                "accuracy_diff_sd": math.nan, "accuracy_scalars": int(len(ref)),
                "accuracy_repeats": int(rows["repeats"].max()) if "repeats" in rows else 1,
                "accuracy_note": f"every statistic has an ESS below {min_ess:.0f}: its MCSE is too uncertain to test"}
    untested = int(low.sum())
    rows = rows[~low]
    ref_value = np.array([ref.at[p, s] for p, s in zip(rows["parameter"], rows["statistic"])], dtype=np.float64)
    ref_se = np.array([ref.at[p, _SE_COLUMN[s]] for p, s in zip(rows["parameter"], rows["statistic"])], dtype=np.float64)
    ref_sd = np.array([ref.at[p, "sd"] for p in rows["parameter"]], dtype=np.float64)
    diff = rows["estimate"].to_numpy(dtype=np.float64) - ref_value
    se = np.sqrt(rows["se"].to_numpy(dtype=np.float64) ** 2 + ref_se ** 2)
    is_sd = (rows["statistic"] == "sd").to_numpy()
    threshold = np.where(is_sd, fail_scale * ref_sd, fail_sd * ref_sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.inf))
        z_excess = np.where(se > 0, (np.abs(diff) - threshold) / se, np.where(np.abs(diff) > threshold, np.inf, -np.inf))
        size = np.abs(diff) / ref_sd  # in reference sd; for the sd statistic its relative error
    z = np.where(np.isnan(z), np.inf, z)  # an MCSE that cannot be computed is no evidence of agreement
    z_excess = np.where(np.isnan(z_excess), np.inf, z_excess)
    significant = np.asarray(holm(2.0 * sps.norm.sf(np.abs(z)))) < alpha
    too_far = np.asarray(holm(sps.norm.sf(z_excess))) < alpha
    if not significant.any():
        verdict, worst = "PASS", int(np.argmax(np.abs(z)))
    elif too_far.any():
        verdict, worst = "FAIL", int(np.argmax(np.where(too_far, z_excess, -np.inf)))
    else:
        verdict, worst = "REVIEW", int(np.argmax(np.abs(z)))
    statistic = str(rows["statistic"].iloc[worst])
    repeats = int(rows["repeats"].max()) if "repeats" in rows else 1
    out = {"accuracy": verdict, "accuracy_worst": f"{rows['parameter'].iloc[worst]} ({statistic})",
           "accuracy_statistic": statistic, "accuracy_z": float(z[worst]), "accuracy_diff_sd": float(size[worst]),
           "accuracy_scalars": int(len(ref)), "accuracy_repeats": repeats}
    if untested:
        out["accuracy_note"] = f"{untested} statistic(s) with an ESS below {min_ess:.0f} not tested"
    return out


def power(difference: float, threshold: float, se: float, tests: int, alpha: float = ACCURACY_ALPHA) -> float:
    """Probability that one statistic off by ``difference`` (same units as ``threshold`` and ``se``) is
    FAILed, with Bonferroni's first Holm step over ``tests`` tests (a lower bound for Holm)."""
    crit = sps.norm.isf(alpha / tests)
    return float(sps.norm.sf(crit - (abs(difference) - threshold) / se))


# ---------------------------------------------------------------- stored references


@lru_cache(maxsize=64)
def _load(folder_text: str, mtime: float) -> tuple[pd.DataFrame | None, dict]:
    folder = Path(folder_text)
    provenance = {}
    if (folder / PROVENANCE_FILE).is_file():
        provenance = json.loads((folder / PROVENANCE_FILE).read_text())
    if not (folder / SUMMARY_FILE).is_file():
        return None, provenance
    return pd.read_csv(folder / SUMMARY_FILE), provenance


def load_reference(model: str, root: Path | None = None) -> tuple[pd.DataFrame | None, dict]:
    """(summary table or None, provenance dict) of a stored reference."""
    from harness.catalogue import reference_dir

    folder = reference_dir(model, root)
    path = folder / SUMMARY_FILE
    mtime = path.stat().st_mtime if path.is_file() else 0.0
    return _load(str(folder), mtime)


def _no_reference(why: str) -> dict:
    return {"accuracy": "no reference", "accuracy_worst": "", "accuracy_z": float("nan"), "accuracy_note": why}


def reference_for(model: str, size_label: str, root: Path | None = None) -> tuple[pd.DataFrame | None, dict | str]:
    """(reference summary, provenance) for a fit at ``size_label``, or (None, why there is none)."""
    ref, provenance = load_reference(model, root)
    if ref is None:
        from harness.catalogue import reference_dir

        reason = reference_dir(model, root) / REASON_FILE
        return None, "no valid reference (see REASON.md)" if reason.is_file() else "no stored reference"
    ref_size = str(provenance.get("size", ""))
    if str(size_label or "") != ref_size:
        return None, f"reference is at size {ref_size or 'default'!r}, this fit at {size_label!r}"
    return ref, provenance


def accuracy(model: str, size_label: str, draws: dict[str, np.ndarray], root: Path | None = None,
             statistics: pd.DataFrame | None = None) -> dict:
    """Accuracy verdict of one fit: draws {name: (chain, draw, *shape)} at size ``size_label``.

    ``draws`` should hold every quantity the reference has (free parameters plus derived ones:
    ``spec.with_derived(fit.draws, data)``). ``statistics``: the fit's ``cell_statistics`` when
    already computed. Never raises: an unreadable reference or a failed computation gives "no
    reference" with a note.
    """
    try:
        ref, why = reference_for(model, size_label, root)
        if ref is None:
            return _no_reference(str(why))
        if statistics is None:
            names, _ = flatten(draws)
            if not set(ref["parameter"]) <= set(names):  # saved draws hold the free parameters only
                from harness.catalogue import get_model
                from harness.spec import parse_size

                spec = get_model(model)
                draws = spec.with_derived(draws, spec.data(**parse_size(size_label or "")))
            statistics = cell_statistics(draws)
        return compare(ref, statistics)
    except Exception as err:  # a diagnostic must never fail a cell
        return _no_reference(f"accuracy not computed: {type(err).__name__}: {err}")


def pooled_accuracy(model: str, size_label: str, tables: list[pd.DataFrame], root: Path | None = None) -> dict:
    """The verdict of a model x backend over its repeats (their ``cell_statistics``, pooled)."""
    try:
        ref, why = reference_for(model, size_label, root)
        if ref is None:
            return _no_reference(str(why))
        if not tables:
            return _no_reference("no statistics stored for these runs")
        return compare(ref, pool(tables))
    except Exception as err:
        return _no_reference(f"accuracy not computed: {type(err).__name__}: {err}")


def pooled_verdicts(frame: pd.DataFrame, root: Path | None = None) -> dict[tuple, dict]:
    """{(model, size, backend, device): pooled verdict} over the ok cells of ``frame`` (a table of
    ``harness.loaders.load_run`` rows, with ``run_dir``), from their stored statistics files; cells
    without one (runs made before they were stored) are left out of the pooling."""
    out: dict[tuple, dict] = {}
    if frame.empty or "run_dir" not in frame:
        return out
    ok = frame[frame["status"] == "ok"]
    for key, group in ok.groupby(["model", "size", "backend", "device"], sort=False):
        tables = []
        for _, row in group.iterrows():
            path = statistics_file(Path(str(row["run_dir"])), str(row["cell_id"]))
            if path.is_file():
                tables.append(pd.read_csv(path))
        if tables:
            model, size = str(key[0]), str(key[1])
            out[tuple(str(k) for k in key)] = pooled_accuracy(model, size, tables, root)
    return out


def statistics_file(run_dir: Path, cell_id: str) -> Path:
    """Where a cell's ``cell_statistics`` are stored in its run directory."""
    return Path(run_dir) / "accuracy" / f"{cell_id}.csv"


def score_run(run_dir: Path, root: Path | None = None, force: bool = False) -> int:
    """Accuracy verdicts for the ok cells of a stored run, from the draws it saved (``--save-draws``).

    For runs made before a reference existed, or before cells were scored: each ok cell without an
    ``accuracy`` (all of them with ``force``) gets the same verdict and statistics file the worker
    would have written, from ``<run>/draws/<cell>.nc``; records are rewritten atomically and the
    tables regenerated. Returns the number of cells scored.
    """
    import arviz as az

    from harness.results import RunStore, write_csv_atomic, write_json_atomic

    store = RunStore(Path(run_dir))
    scored = 0
    for path in sorted((Path(run_dir) / "cells").glob("*.json")):
        record = json.loads(path.read_text())
        has = isinstance(record.get("accuracy"), str) and record["accuracy"]
        if record.get("status") != "ok" or not record.get("draws_file") or (has and not force):
            continue
        fit = az.from_netcdf(Path(run_dir) / "draws" / record["draws_file"])
        draws = {k: np.asarray(v.values) for k, v in fit["posterior"].data_vars.items()}
        table = cell_statistics(draws)
        write_csv_atomic(statistics_file(run_dir, record["cell_id"]), table)
        record.update(accuracy(record["model"], record.get("size", ""), draws, root, statistics=table))
        write_json_atomic(path, record)
        scored += 1
    store.refresh()
    return scored
