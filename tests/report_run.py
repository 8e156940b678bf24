"""A small run directory and SBC output for the report tests, written in well under a second.

The run (``make_report_run``) has three models of three classes and every kind of overview cell:
fastest, slower, failed (no repeat finished), partly failed, inaccurate (its stored statistics put
``mu`` 0.5 reference sd off), not implemented and not run (unavailable). ``normal_mean`` carries
per-cell statistics (``accuracy/<cell>.csv``) so its accuracy z-scores can be drawn. The SBC output
(``make_sbc_dir``) has a summary and ranks but no figure, so the report draws the ECDF from the ranks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.accuracy import load_reference, statistics_file
from tests.test_compare import make_run, record

FAST, SLOW = 2000.0, 200.0  # min bulk ESS of the fastest and the slower backends (sampling 0.5 s)


def _records() -> list[dict]:
    nm, es, lr = "normal_mean", "eight_schools_noncentered", "logistic_regression"
    recs = [record(model=nm, backend="numpyro", ess_bulk_min=FAST),
            record(model=nm, backend="stan", ess_bulk_min=FAST * 2, accuracy="FAIL"),  # fast and wrong
            record(model=nm, backend="pymc", ess_bulk_min=SLOW),
            record(model=es, size="", backend="numpyro", ess_bulk_min=SLOW),
            record(model=es, size="", backend="stan", status="failed", error="RuntimeError: boom"),
            record(model=es, size="", backend="pymc", ess_bulk_min=FAST),
            record(model=lr, size="N=1000,D=10", backend="numpyro", ess_bulk_min=FAST),
            record(model=lr, size="N=1000,D=10", backend="numpyro", repeat=1, status="timeout", error="timeout"),
            record(model=lr, size="N=1000,D=10", backend="stan", status="not implemented",
                   error="not implemented: the model brings no stan_model.stan"),
            record(model=lr, size="N=1000,D=10", backend="pymc", status="unavailable",
                   error="backend 'pymc' is unavailable here: not installed: pymc")]
    return recs


def _statistics(shift_sd: float) -> pd.DataFrame:
    """Statistics of ``normal_mean``'s ``mu`` (``harness.accuracy.cell_statistics`` form) equal to the
    stored reference's, the mean and quantiles moved by ``shift_sd`` reference sd."""
    ref, _ = load_reference("normal_mean")
    row = ref.set_index("parameter").loc["mu"]
    shift = shift_sd * row["sd"]
    return pd.DataFrame({"parameter": "mu", "statistic": ["mean", "sd", "q05", "q95"],
                         "estimate": [row["mean"] + shift, row["sd"], row["q05"] + shift, row["q95"] + shift],
                         "se": [row["mcse_mean"] * 3, row["mcse_sd"] * 3, row["mcse_q05"] * 3, row["mcse_q95"] * 3]})


def make_report_run(root: Path) -> Path:
    """The run directory (see the module docstring); returns it."""
    recs = _records()
    run_dir = make_run(root, recs)
    for rec in recs:
        if rec["model"] == "normal_mean":
            path = statistics_file(run_dir, rec["cell_id"])
            path.parent.mkdir(parents=True, exist_ok=True)
            _statistics(0.5 if rec["backend"] == "stan" else 0.0).to_csv(path, index=False)
    return run_dir


def make_sbc_dir(root: Path, sims: int = 60, kept: int = 39) -> Path:
    """An SBC output directory for ``normal_mean`` x numpyro: summary.csv, ranks.csv and a manifest."""
    root.mkdir(parents=True, exist_ok=True)
    ranks = np.random.default_rng(1).integers(0, kept + 1, size=(sims, 3))
    pd.DataFrame([{"model": "normal_mean", "backend": "numpyro", "stage": "screen", "replicate": i, "quantity": q,
                   "rank": int(ranks[i, j]), "n_kept": kept, "status": "ok", "divergences": 0, "seed": i, "error": ""}
                  for i in range(sims) for j, q in enumerate(("mu", "loglik", "joint"))]).to_csv(
        root / "ranks.csv", index=False)
    pd.DataFrame([{"model": "normal_mean", "backend": "numpyro", "sims": sims, "ok": sims, "failed": 0,
                   "failed_frac": 0.0, "divergent_frac": 0.0, "verdict": "pass", "verdict_no_divergent": "pass",
                   "failed_quantities": "", "coverage_50": 0.5, "coverage_80": 0.8, "coverage_95": 0.95,
                   "chi2_min_p": 0.4, "kept": kept, "alpha": 0.05, "band_prob": 1 - 0.05 / 3}]).to_csv(
        root / "summary.csv", index=False)
    (root / "manifest.json").write_text('{"created": "2026-01-01T00:00:00+00:00"}')
    return root
