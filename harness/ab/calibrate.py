"""Measure the regression gate: false alarms of A/A runs and detection of an injected slowdown.

``python -m harness.ab.calibrate --out DIR [--runs 2] [--repeats 6] [--slowdown 0.3]``

Runs real interleaved A/B runs (``harness.ab.engine``) of the ``fake_slow`` test backend
(``harness/ab/calibration_backend.py``: exact sampling of ``normal_mean`` with real CPU work per gradient and
``PPL_FAKE_SLOWDOWN`` more time per gradient):

* ``--runs`` A/A runs: both sides ``PPL_FAKE_SLOWDOWN=0``; every flagged timing row is a false alarm;
* ``--runs`` injected runs: side B ``PPL_FAKE_SLOWDOWN=<slowdown>`` (``--mode work``: that much more
  CPU work per gradient; ``sleep``: that much waiting); a cell counts as caught when a sampling
  metric (``sampling_s``, ``sampling_per_grad`` or ``sample_cpu_s``) is flagged.

Runs already complete in DIR (``aa-<i>``, ``injected-<i>``) are reused.

Each run has one cell per ``--size`` (several data sizes of ``normal_mean``). Real runs are costly
(each side of each repeat is a fresh process), so the rates are also estimated by resampling: from
the pooled repeats of each side of each cell, ``--resamples`` pseudo-runs of ``repeats`` vs
``repeats`` values are drawn without replacement and put through the same test. Writes
``DIR/calibration.md`` and ``DIR/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from harness.ab.engine import ABPlan, run_ab
from harness.ab.envs import resolve_env
from harness.compare.rows import REGRESSION, TIMING_METRICS, compare_runs, with_derived
from harness.compare.stats import DEFAULT_ALPHA, DEFAULT_FACTOR, timing_test
from harness.loaders import load_run
from harness.tables import markdown_table

SAMPLING = ("sampling_s", "sampling_per_grad", "sample_cpu_s")
FAKE = "fake_slow=harness.ab.calibration_backend"


def _register_fake() -> None:
    entries = [e for e in os.environ.get("PPL_HARNESS_EXTRA_BACKENDS", "").split(",") if e]
    if FAKE not in entries:
        os.environ["PPL_HARNESS_EXTRA_BACKENDS"] = ",".join([*entries, FAKE])
    import harness.backends as backends

    backends.REGISTRY.setdefault("fake_slow", "harness.ab.calibration_backend")


def one_run(out: Path, plan: ABPlan, slowdown: float, mode: str = "work") -> dict:
    done = (out / "ab.json").exists()
    if done:
        dir_a, dir_b = out / "a", out / "b"
    else:
        a = resolve_env("current", extra_env={"PPL_FAKE_SLOWDOWN": "0", "PPL_FAKE_SLOWDOWN_MODE": mode})
        b = resolve_env("current", extra_env={"PPL_FAKE_SLOWDOWN": str(slowdown), "PPL_FAKE_SLOWDOWN_MODE": mode})
        dir_a, dir_b = run_ab(a, b, plan, out, progress=True)
    cmp = compare_runs(dir_a, dir_b)
    timing = [r for r in cmp.rows if r.kind == "timing"]
    cells = sorted({(r.model, r.size, r.backend) for r in timing})
    flagged = {(r.model, r.size, r.backend, r.metric) for r in timing if r.verdict == REGRESSION}
    caught = [c for c in cells if any((*c, m) in flagged for m in SAMPLING)]
    return {"dir": str(out), "slowdown": slowdown, "timing_rows": len(timing), "flagged_rows": len(flagged),
            "cells": len(cells), "cells_flagged": len({c[:3] for c in flagged}), "cells_caught": len(caught),
            "failed": cmp.failed, "detectable": {f"{r.size} {r.metric}": r.detectable for r in timing}}


def resampled(run_dirs: list[str], repeats: int, resamples: int, seed: int = 0) -> dict:
    """Per metric: the share of pseudo-runs flagged, from the pooled repeats of each cell."""
    rng = np.random.default_rng(seed)
    pools: dict = {}
    for d in run_dirs:
        for side in ("a", "b"):
            frame, _ = load_run(Path(d) / side)
            frame = with_derived(frame[frame["status"] == "ok"])
            for size, g in frame.groupby("size"):
                for metric, _, _ in TIMING_METRICS:
                    if metric in g:
                        pools.setdefault((size, metric), {"a": [], "b": []})[side] += list(
                            g[metric].astype(float).dropna())
    out = {}
    for metric, higher, _ in TIMING_METRICS:
        hits = trials = 0
        for (_size, m), sides in pools.items():
            if m != metric or min(len(sides["a"]), len(sides["b"])) < repeats:
                continue
            a, b = np.asarray(sides["a"]), np.asarray(sides["b"])
            for _ in range(resamples):
                res = timing_test(rng.choice(a, repeats, replace=False), rng.choice(b, repeats, replace=False),
                                  DEFAULT_FACTOR, DEFAULT_ALPHA, higher_is_better=higher)
                hits += res.regression
                trials += 1
        if trials:
            out[metric] = {"flagged": hits, "trials": trials, "rate": hits / trials}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.ab.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=2, help="A/A runs, and as many injected-slowdown runs")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--slowdown", type=float, default=0.3)
    parser.add_argument("--mode", choices=("work", "sleep"), default="work", help="how the slowdown is injected")
    parser.add_argument("--size", action="append", help="normal_mean sizes, one cell each (default K=1000,2000,4000)")
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=300)
    args = parser.parse_args(argv)
    _register_fake()
    plan = ABPlan(models=["normal_mean"], backends=["fake_slow"], chains=args.chains, warmup=200, draws=args.draws,
                  sizes=args.size or ["K=1000", "K=2000", "K=4000"], repeats=args.repeats, prime=False)
    # one cell per size: the runner runs every size of a size-scalable model
    results: dict = {"plan": plan.settings(), "aa": [], "injected": []}
    for i in range(args.runs):
        results["aa"].append(one_run(args.out / f"aa-{i}", plan, 0.0))
        results["injected"].append(one_run(args.out / f"injected-{i}", plan, args.slowdown, args.mode))
    results["aa_resampled"] = resampled([r["dir"] for r in results["aa"]], args.repeats, args.resamples)
    results["injected_resampled"] = resampled([r["dir"] for r in results["injected"]], args.repeats, args.resamples)
    (args.out / "calibration.json").write_text(json.dumps(results, indent=1))
    text = report(results, args)
    (args.out / "calibration.md").write_text(text)
    print(text)
    return 0


def report(results: dict, args) -> str:
    aa, inj = results["aa"], results["injected"]
    lines = [f"### Gate calibration: fake_slow, {args.repeats} repeats a side, interleaved", "",
             f"- A/A runs: {len(aa)}; timing rows flagged: {sum(r['flagged_rows'] for r in aa)} of "
             f"{sum(r['timing_rows'] for r in aa)}; runs failed: {sum(r['failed'] for r in aa)} of {len(aa)}",
             f"- +{args.slowdown:.0%} per gradient ({args.mode}): {len(inj)} runs; cells caught (a sampling metric flagged): "
             f"{sum(r['cells_caught'] for r in inj)} of {sum(r['cells'] for r in inj)}; runs failed: "
             f"{sum(r['failed'] for r in inj)} of {len(inj)}", "",
             f"Resampled ({args.resamples} pseudo-runs of {args.repeats} vs {args.repeats} per cell from the pooled "
             "repeats):", ""]
    rows = []
    for metric, _, _ in TIMING_METRICS:
        a, b = results["aa_resampled"].get(metric), results["injected_resampled"].get(metric)
        if a or b:
            fmt = lambda x: f"{x['rate']:.1%} ({x['flagged']}/{x['trials']})" if x else "-"  # noqa: E731
            rows.append([metric, fmt(a), fmt(b)])
    lines.append(markdown_table(rows, ["metric", "A/A flagged (false alarms)", "injected flagged (detection)"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
