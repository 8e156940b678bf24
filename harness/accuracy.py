"""The accuracy verdict: does a fit's posterior agree with the model's reference posterior?

For every scalar ``s`` of the reference (free parameters and derived quantities, named like
``theta[0]``)::

    z_s = (mean_s - ref_mean_s) / sqrt(mcse_s^2 + ref_mcse_s^2)

with ``mean_s``/``mcse_s`` the fit's posterior mean and its Monte Carlo standard error
(``harness.diagnostics.mcse_mean``: ESS-based, so autocorrelation is accounted for) and the
reference's from ``summary.csv``. Two-sided p-values, Bonferroni over the K scalars at family level
``ACCURACY_ALPHA`` (0.01): a scalar is *significant* when ``p_s * K < ACCURACY_ALPHA``
(K = 1: |z| > 2.58; K = 18: |z| > 3.45).

* ``PASS``    no scalar is significant;
* ``REVIEW``  some scalar differs significantly from the reference, but none is shown to differ by
              more than ``FAIL_SD`` (0.05) reference posterior sd: a detectable but possibly
              negligible bias, or MCSEs that are too optimistic (look at the fit);
* ``FAIL``    some scalar differs from the reference by *significantly more* than 0.05 reference
              posterior sd: a one-sided test of H0 |bias| <= 0.05 sd, statistic
              (|mean - ref mean| - 0.05 sd) / se, at the same Bonferroni level;
* ``no reference``  no stored reference for this model, or the cell ran at another size than
              the reference's (only the catalogue default size has one), or a ``REASON.md`` says
              why none could be made.

Error rates, when the MCSEs are right: a correct backend gets REVIEW in at most 1% of cells, and
FAIL far less often (it needs |z| above the critical value plus 0.05 sd / se, e.g. |z| > 4.8 at a
bulk ESS of 2,000: about 1e-6); a backend whose bias is exactly 0.05 sd FAILs in at most 1% of
cells. Power: a bias of b sd FAILs with probability ~ P(Z > crit - (b - 0.05) / se_sd), e.g. at
ESS 2,000 (se ~ 0.022 sd) a 0.15-sd bias fails 85% of the time, a 0.2-sd bias 99.9%. Shorter runs
detect less (the verdict PASS says "no evidence of a difference", not "identical").

A rule that failed a cell on any significant difference of more than 0.05 sd failed correct
backends in ~1% of cells (at ESS ~2,000 every significant difference exceeds 0.05 sd), i.e.
several times in a benchmark of a few hundred cells, and ``recommend`` excludes on one FAIL.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness import diagnostics

ACCURACY_ALPHA = 0.01
FAIL_SD = 0.05
SUMMARY_FILE = "summary.csv"
PROVENANCE_FILE = "provenance.json"
DRAWS_FILE = "draws.npz"
REASON_FILE = "REASON.md"
SUMMARY_COLUMNS = ["parameter", "mean", "sd", "mcse_mean", "q05", "q50", "q95"]
VERDICTS = ("PASS", "REVIEW", "FAIL", "no reference")


from harness.paths import reference_root  # noqa: E402 (re-exported)

# ---------------------------------------------------------------- scalars


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


def _per_scalar(dataset, draws: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(dataset[name].values, dtype=np.float64).reshape(-1) for name in draws])


def summarise(draws: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per scalar: parameter, mean, sd, mcse_mean (ArviZ, via harness.diagnostics), q05, q50, q95."""
    names, x = flatten(draws)
    flat = x.reshape(-1, x.shape[2])
    q05, q50, q95 = np.quantile(flat, [0.05, 0.5, 0.95], axis=0)
    return pd.DataFrame({
        "parameter": names,
        "mean": flat.mean(axis=0),
        "sd": flat.std(axis=0, ddof=1),
        "mcse_mean": _per_scalar(diagnostics.mcse_mean(draws), draws),
        "q05": q05, "q50": q50, "q95": q95,
    }, columns=SUMMARY_COLUMNS)


# ---------------------------------------------------------------- the comparison


def compare(reference: pd.DataFrame, fit: pd.DataFrame, alpha: float = ACCURACY_ALPHA,
            fail_sd: float = FAIL_SD) -> dict:
    """Verdict of ``fit`` (a ``summarise`` table) against ``reference`` (a stored summary.csv table).

    Scalars are matched by name; a reference scalar the fit lacks makes the verdict FAIL (the fit
    does not report what the model defines). Returns {"accuracy", "accuracy_worst", "accuracy_z",
    "accuracy_diff_sd", "accuracy_scalars"}; "accuracy_worst" is the scalar with the largest |z|.
    """
    ref = reference.set_index("parameter")
    mine = fit.set_index("parameter")
    missing = [p for p in ref.index if p not in mine.index]
    if missing:
        return {"accuracy": "FAIL", "accuracy_worst": missing[0], "accuracy_z": float("nan"),
                "accuracy_diff_sd": float("nan"), "accuracy_scalars": len(ref),
                "accuracy_note": f"missing scalars: {', '.join(missing[:5])}"}
    mine = mine.loc[ref.index]
    diff = mine["mean"].to_numpy() - ref["mean"].to_numpy()
    se = np.sqrt(mine["mcse_mean"].to_numpy() ** 2 + ref["mcse_mean"].to_numpy() ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.inf))
        diff_sd = np.abs(diff) / ref["sd"].to_numpy()
    z = np.where(np.isnan(z), np.inf, z)  # an MCSE that cannot be computed is no evidence of agreement
    k = len(z)
    p = 2.0 * stats.norm.sf(np.abs(z))
    significant = p * k < alpha
    # one-sided test that the bias exceeds fail_sd posterior sd: (|diff| - fail_sd * sd) / se
    with np.errstate(divide="ignore", invalid="ignore"):
        z_excess = np.where(se > 0, (np.abs(diff) - fail_sd * ref["sd"].to_numpy()) / se, np.inf)
    z_excess = np.where(np.isnan(z_excess), np.inf, z_excess)
    too_far = stats.norm.sf(z_excess) * k < alpha
    worst = int(np.argmax(np.abs(z)))
    if not significant.any():
        verdict = "PASS"
    elif too_far.any():
        verdict = "FAIL"
        worst = int(np.argmax(np.where(too_far, z_excess, -np.inf)))
    else:
        verdict = "REVIEW"
    return {"accuracy": verdict, "accuracy_worst": str(ref.index[worst]), "accuracy_z": float(z[worst]),
            "accuracy_diff_sd": float(diff_sd[worst]), "accuracy_scalars": k}


# ---------------------------------------------------------------- stored references


@lru_cache(maxsize=64)
def _load(root: str, model: str, mtime: float) -> tuple[pd.DataFrame | None, dict]:
    folder = Path(root) / model
    provenance = {}
    if (folder / PROVENANCE_FILE).is_file():
        provenance = json.loads((folder / PROVENANCE_FILE).read_text())
    if not (folder / SUMMARY_FILE).is_file():
        return None, provenance
    return pd.read_csv(folder / SUMMARY_FILE), provenance


def load_reference(model: str, root: Path | None = None) -> tuple[pd.DataFrame | None, dict]:
    """(summary table or None, provenance dict) of a stored reference."""
    folder = Path(root or reference_root()) / model
    path = folder / SUMMARY_FILE
    mtime = path.stat().st_mtime if path.is_file() else 0.0
    return _load(str(Path(root or reference_root())), model, mtime)


def _no_reference(why: str) -> dict:
    return {"accuracy": "no reference", "accuracy_worst": "", "accuracy_z": float("nan"), "accuracy_note": why}


def accuracy(model: str, size_label: str, draws: dict[str, np.ndarray], root: Path | None = None) -> dict:
    """Accuracy verdict of one fit: draws {name: (chain, draw, *shape)} at size ``size_label``.

    ``draws`` should hold every quantity the reference has (free parameters plus derived ones:
    ``spec.with_derived(fit.draws, data)``); missing derived quantities are computed here. Never
    raises: an unreadable reference or a failed computation gives "no reference" with a note.
    """
    try:
        ref, provenance = load_reference(model, root)
        if ref is None:
            reason = Path(root or reference_root()) / model / REASON_FILE
            return _no_reference("no valid reference (see REASON.md)" if reason.is_file() else "no stored reference")
        ref_size = str(provenance.get("size", ""))
        if str(size_label or "") != ref_size:
            return _no_reference(f"reference is at size {ref_size or 'default'!r}, this fit at {size_label!r}")
        names, _ = flatten(draws)
        if not set(ref["parameter"]) <= set(names):
            from harness.catalogue import get_model

            spec = get_model(model)
            data = spec.data(**_size_dict(ref_size))
            draws = spec.with_derived(draws, data)
        return compare(ref, summarise(draws))
    except Exception as err:  # a diagnostic must never fail a cell
        return _no_reference(f"accuracy not computed: {type(err).__name__}: {err}")


def _size_dict(label: str) -> dict:
    out = {}
    for part in filter(None, (label or "").split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = int(value)
    return out


def score_run(run_dir: Path, root: Path | None = None, force: bool = False) -> int:
    """Accuracy verdicts for the ok cells of a stored run, from the draws it saved (``--save-draws``).

    For runs made before a reference existed, or before cells were scored: each ok cell without an
    ``accuracy`` (all of them with ``force``) gets the same verdict the worker would have given, from
    ``<run>/draws/<cell>.nc``; records are rewritten atomically and the tables regenerated. Returns
    the number of cells scored.
    """
    import json

    import arviz as az

    from harness.results import RunStore, write_json_atomic

    store = RunStore(Path(run_dir))
    scored = 0
    for path in sorted((Path(run_dir) / "cells").glob("*.json")):
        record = json.loads(path.read_text())
        has = isinstance(record.get("accuracy"), str) and record["accuracy"]
        if record.get("status") != "ok" or not record.get("draws_file") or (has and not force):
            continue
        fit = az.from_netcdf(Path(run_dir) / "draws" / record["draws_file"])
        draws = {k: np.asarray(v.values) for k, v in fit["posterior"].data_vars.items()}
        record.update(accuracy(record["model"], record.get("size", ""), draws, root))
        write_json_atomic(path, record)
        scored += 1
    store.refresh()
    return scored
