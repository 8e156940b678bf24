"""The benchmark suites, and what a run will cost before it starts.

* ``standard`` (``nox -s bench``): the smallest catalogue model of every class (``harness.spec.TAGS``),
  every backend, 60 s a cell. Its measured wall time is in docs/methodology.md.
* ``full`` (``nox -s bench -- --suite full``): every catalogue model, every backend; for a long local
  run or a cluster (``--scheduler``).

Each suite has a per-cell time budget (``--timeout``): a cell that would take hours (Pyro on a
3,800-parameter model) becomes a ``timeout`` record when its budget is spent, and the run goes on.

The estimate: each cell's wall time from the measured costs committed in
``results/baselines/cell_costs.csv`` (model x backend medians of a full run: ``cost_table``), capped
at the budget; a cell without a measurement is estimated from its model's size class. The sum is
divided by the cluster's workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.paths import CHECKOUT

STANDARD = (  # the smallest model of each class, so that every class is measured within the budget
    "eight_schools_centered",  # hierarchical, funnel
    "horseshoe_regression",  # sparse, glm, synthetic
    "car_lattice",  # spatial, hierarchical, synthetic
    "gp_pois_regr",  # gp
    "hmm_example",  # time-series, mixture
    "one_comp_mm_elim_abs",  # ode
    "irt_2pl",  # irt, hierarchical
    "weibull_survival",  # survival, synthetic
)


@dataclass(frozen=True)
class Suite:
    """A named benchmark suite: its models (None: the whole catalogue), per-cell budget and one line."""

    models: tuple[str, ...] | None
    timeout_s: float
    description: str


SUITES = {
    "standard": Suite(tuple(STANDARD), 60.0, "the smallest model of every class, every backend"),
    "full": Suite(None, 900.0, "every catalogue model, every backend (hours on 2 cores; made for a cluster)"),
}
COSTS_FILE = CHECKOUT / "results" / "baselines" / "cell_costs.csv"
# seconds per cell (process start, compile, 4 x 2000 iterations, diagnostics) where nothing was measured
FALLBACK_S = {"small": 30.0, "medium": 90.0, "large": 400.0}


def suite_models(name: str) -> list[str]:
    """The suite's models that are in the catalogue (all of it for ``full``)."""
    from harness.catalogue import model_names

    models = SUITES[name].models
    have = model_names()
    return list(have) if models is None else [m for m in models if m in have]


def cost_table(path: Path = COSTS_FILE) -> pd.DataFrame:
    """Measured cell costs: model, backend, seconds (median wall time of a cell, start to record)."""
    if not Path(path).is_file():
        return pd.DataFrame(columns=["model", "backend", "seconds"])
    return pd.read_csv(path)


def measured_costs(frame: pd.DataFrame, timeout_s: float | None = None) -> pd.DataFrame:
    """model, backend, seconds: the median over a run's cells of each cell's time (the sum of its
    phases, ``harness.run.summary.PHASE_NAMES``, start-up to writing; a timeout counts its budget)."""
    from harness.run.summary import PHASE_NAMES

    phases = [c for c in PHASE_NAMES if c in frame]
    seconds = frame[phases].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)
    if timeout_s is not None:
        seconds = seconds.where(frame["status"] != "timeout", float(timeout_s))
    table = frame.assign(seconds=seconds).dropna(subset=["seconds"])
    costs = pd.DataFrame(table.groupby(["model", "backend"], as_index=False)["seconds"].median())
    return costs.sort_values(["model", "backend"]).round({"seconds": 1}).reset_index(drop=True)


def backend_factors(costs: pd.DataFrame) -> dict[str, float]:
    """{backend: median over models of its cost / the model's median cost}: how much dearer than the
    typical backend its cells are, for the cells without a measurement."""
    if costs.empty:
        return {}
    typical = costs.groupby("model")["seconds"].transform("median")
    ratio = costs.assign(ratio=costs["seconds"] / typical)
    return {str(b): float(r) for b, r in ratio.groupby("backend")["ratio"].median().items()}


def estimate(cells: list, timeout_s: float, workers: int, costs: pd.DataFrame | None = None) -> dict:
    """{"seconds", "measured", "estimated", "capped"}: the run's wall time on ``workers`` workers.

    A cell without a measurement costs its size class's ``FALLBACK_S`` times its backend's factor
    (``backend_factors`` of the measured costs)."""
    from harness.catalogue import get_model

    costs = cost_table() if costs is None else costs
    known = {(str(r.model), str(r.backend)): float(str(r.seconds)) for r in costs.itertuples()}
    factors = backend_factors(costs)
    total, measured, capped = 0.0, 0, 0
    for cell in cells:
        seconds = known.get((cell.model, cell.backend))
        if seconds is None:
            seconds = FALLBACK_S.get(get_model(cell.model).size_class, 60.0) * factors.get(cell.backend, 1.0)
        else:
            measured += 1
        if seconds >= timeout_s:
            capped += 1
        total += min(seconds, timeout_s)
    return {"seconds": total / max(1, workers), "measured": measured, "estimated": len(cells) - measured,
            "capped": capped}


def describe(plan, cells: list, workers: int, suite: str | None) -> str:
    """What the run will do and cost, printed before it starts."""
    est = estimate(cells, plan.timeout_s, workers)
    models = len(plan.models)
    head = f"suite {suite}: {SUITES[suite].description}\n" if suite else ""
    minutes = est["seconds"] / 60.0
    return (f"{head}{len(cells)} cells: {models} model{'s' if models != 1 else ''} x {len(plan.backends)} backends x "
            f"{plan.repeats} repeat{'s' if plan.repeats != 1 else ''}, {plan.settings.chains} chains x "
            f"{plan.settings.warmup} + {plan.settings.draws} draws, budget {plan.timeout_s:.0f} s a cell, "
            f"{workers} worker{'s' if workers != 1 else ''}.\n"
            f"estimated wall time: {_duration(est['seconds'])} ({est['measured']} cells from measured costs, "
            f"{est['estimated']} from their size class; {est['capped']} expected to reach the budget)"
            + ("" if math.isfinite(minutes) else ""))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.run.suites RUN_DIR [OUT]``: write the measured cell costs of a run
    (``measured_costs``) to OUT (default ``results/baselines/cell_costs.csv``)."""
    import sys

    from harness.results import load_results

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(main.__doc__)
        return 0 if args else 2
    out = Path(args[1]) if len(args) > 1 else COSTS_FILE
    frame, manifest = load_results(Path(args[0]))
    costs = measured_costs(frame, manifest.get("settings", {}).get("timeout_s"))
    out.parent.mkdir(parents=True, exist_ok=True)
    costs.to_csv(out, index=False)
    print(f"{len(costs)} model x backend costs -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
