"""Overhead of running benchmark cells as Dask tasks (a benchmark, not a test).

    python tests/benchmarks/dask_overhead.py [--cells 40] [--modes sequential,dask1,dask2]

Runs ``--cells`` cheap cells (``normal_mean`` on the ``fake_exact`` test backend, repeats 0..N-1) three
ways and prints the wall time of each:

* ``sequential``: the runner before Dask: one cell process after another (``_run_worker`` + ``RunStore.add``);
* ``dask1``: ``harness.run.runner.run`` on an embedded LocalCluster with 1 worker;
* ``dask2``: the same with 2 workers (cells side by side).

``dask1 - sequential`` is the Dask overhead (cluster start-up, task round trips, results shipped back).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ["PPL_HARNESS_EXTRA_BACKENDS"] = ",".join(
    filter(None, [os.environ.get("PPL_HARNESS_EXTRA_BACKENDS"), "fake_exact=tests.fakes.exact"]))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--modes", default="sequential,dask1,dask2")
    args = parser.parse_args()

    from harness import provenance
    from harness.results import RunStore
    from harness.run.plan import RunPlan, plan_cells, plan_settings
    from harness.run.runner import run
    from harness.run.runner import run_cell_process as _run_worker
    from harness.settings import SamplerSettings

    plan = RunPlan(models=["normal_mean"], backends=["fake_exact"], repeats=args.cells, equivalence=False,
                   settings=SamplerSettings(chains=2, warmup=10, draws=200))
    with tempfile.TemporaryDirectory(prefix="dask-overhead-") as tmp:
        for mode in args.modes.split(","):
            out = Path(tmp) / mode
            start = time.perf_counter()
            if mode == "sequential":
                store = RunStore(out)
                store.write_manifest(provenance.collect(plan_settings(plan), None))
                (out / "logs").mkdir(parents=True)
                for cell in plan_cells(plan):
                    store.add(_run_worker(cell, plan, out / "logs"))
            else:
                run(plan, out, progress=False, workers=int(mode.removeprefix("dask")))
            wall = time.perf_counter() - start
            n = len(list((out / "cells").glob("*.json")))
            print(f"{mode:>10}: {n} cells in {wall:6.1f} s ({wall / n:5.2f} s/cell)", flush=True)


if __name__ == "__main__":
    main()
