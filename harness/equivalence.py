"""Are the parallel implementations the same model? Log-density differences across backends.

At ``n_points`` parameter points drawn from the model's numpy prior sampler, every backend's joint
log density (constrained scale, no Jacobian) is evaluated. Constants differ between backends (Stan
drops them), so what is compared is ``lp[i] - lp[0]``: for every pair of backends, and for each
backend against the scipy reference in ``model.py``, these differences must agree to
``rtol``/``atol``. One table row per model x backend pair.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from harness.backends import get_backend
from harness.catalogue import get_model

REFERENCE = "reference"
RTOL = 1e-6
ATOL = 1e-6


def prior_points(spec, data, n_points: int, seed: int) -> list[dict]:
    """``n_points`` draws from the numpy prior sampler (fixed seed)."""
    rng = np.random.default_rng(seed)
    return [{k: np.asarray(v, dtype=np.float64) for k, v in spec.sample_prior(rng, data).items()}
            for _ in range(n_points)]


def log_densities(model: str, backends: list[str], n_points: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """{backend or 'reference': (n_points,) joint log densities, or the error text}."""
    spec = get_model(model)
    data = spec.data()
    points = prior_points(spec, data, n_points, seed)
    out: dict = {REFERENCE: np.array([spec.log_density(p, data) for p in points])}
    for name in backends:
        try:
            out[name] = np.asarray(get_backend(name).log_density(spec, data, points), dtype=np.float64)
        except Exception as err:  # recorded per backend; the other pairs are still compared
            out[name] = f"{type(err).__name__}: {err}\n{traceback.format_exc()[-1500:]}"
    return out


def compare(values: dict, rtol: float = RTOL, atol: float = ATOL) -> pd.DataFrame:
    """Pairwise agreement of ``lp - lp[0]``: columns a, b, max_abs_diff, tolerance, status, error."""
    rows = []
    for a, b in itertools.combinations(values, 2):
        va, vb = values[a], values[b]
        row = {"a": a, "b": b, "max_abs_diff": np.nan, "tolerance": np.nan, "status": "fail", "error": ""}
        if isinstance(va, str) or isinstance(vb, str):
            row["status"], row["error"] = "error", (va if isinstance(va, str) else vb)[:500]
        else:
            da, db = va - va[0], vb - vb[0]
            tol = atol + rtol * np.maximum(np.abs(da), np.abs(db))
            row["max_abs_diff"] = float(np.max(np.abs(da - db)))
            row["tolerance"] = float(np.min(tol))
            ok = bool(np.all(np.isfinite(da)) and np.all(np.isfinite(db)) and np.all(np.abs(da - db) <= tol))
            row["status"] = "pass" if ok else "fail"
        rows.append(row)
    return pd.DataFrame(rows)


def check(models: list[str], backends: list[str], n_points: int = 5, seed: int = 0) -> pd.DataFrame:
    """Equivalence table for every model: one row per pair (backends and the scipy reference)."""
    frames = []
    for model in models:
        table = compare(log_densities(model, backends, n_points, seed))
        table.insert(0, "model", model)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def backend_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per model x backend: 'pass' when the backend agrees with the scipy reference.

    Judged against the reference only, so one broken backend does not fail the others through the
    pairs they share with it (those pairs still show as failing in the table).
    """
    rows = []
    for model, group in table.groupby("model", sort=False):
        names = sorted((set(group["a"]) | set(group["b"])) - {REFERENCE})
        for name in names:
            mine = group[((group["a"] == REFERENCE) & (group["b"] == name)) | ((group["b"] == REFERENCE) & (group["a"] == name))]
            ok = not mine.empty and (mine["status"] == "pass").all()
            rows.append({"model": model, "backend": name, "equivalence": "pass" if ok else "fail"})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.equivalence --models a,b --backends x,y --out FILE.csv`` (used by the runner)."""
    parser = argparse.ArgumentParser(prog="python -m harness.equivalence")
    parser.add_argument("--models", required=True)
    parser.add_argument("--backends", required=True)
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    table = check(args.models.split(","), args.backends.split(","), args.points, args.seed)
    from harness.results import write_csv_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(args.out, table)
    print(table.to_string(index=False))
    return 0 if (table["status"] == "pass").all() else 1


if __name__ == "__main__":
    sys.exit(main())
