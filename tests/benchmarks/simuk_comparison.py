"""The harness's SBC against simuk 0.3 on the same model and settings (a benchmark, not a test).

    pip install simuk==0.3.0        # into the stack's virtualenv (or a --target dir on PYTHONPATH)
    python tests/benchmarks/simuk_comparison.py [--sims 100] [--skip-harness]

Both run prior SBC of ``eight_schools_noncentered`` (``models/eight_schools_noncentered/numpyro_model.py``,
the same NumPyro program) with NumPyro's NUTS: 1 chain x 500 warm-up x 500 draws, target acceptance
0.8, ``--sims`` replicates, wall time end to end from a fresh process (imports included):

* the harness: ``python -m harness sbc --models eight_schools_noncentered --backends numpyro`` on its
  default cluster (one worker per core), and again with ``--cores 1``;
* simuk: ``simuk.SBC(NUTS(model), num_simulations=N, sample_kwargs=...)`` and ``run_simulations()``,
  one process (simuk runs its replicates one after another, one new ``MCMC`` per replicate).

Prints each wall time, simuk's extrapolated to 1,000 replicates (its cost is linear in replicates:
one compile and one fit each) and the ratio. Nothing else may run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "eight_schools_noncentered"
WARMUP, DRAWS, TARGET_ACCEPT = 500, 500, 0.8

SIMUK = f"""
import sys, time
start = time.perf_counter()
sys.path.insert(0, {str(ROOT)!r})
import numpy as np
from numpyro.infer import NUTS
import simuk
from harness.catalogue import get_model
from models.{MODEL}.numpyro_model import model as catalogue_model

data = get_model({MODEL!r}).data()
observed = {{"sigma": np.asarray(data["sigma"], dtype=np.float64), "y": np.asarray(data["y"], dtype=np.float64)}}

def model(sigma, y=None):  # simuk passes data and observations as keyword arguments
    catalogue_model({{"sigma": sigma, "y": y}})

sbc = simuk.SBC(NUTS(model, target_accept_prob={TARGET_ACCEPT}), num_simulations=int(sys.argv[1]),
                sample_kwargs={{"num_warmup": {WARMUP}, "num_samples": {DRAWS}, "num_chains": 1}},
                data_dir=observed, seed=0, progress_bar=False)
sbc.run_simulations()
print(time.perf_counter() - start)
"""


def harness_sbc(sims: int, cores: int | None, out: Path) -> tuple[float, int]:
    """(wall seconds, replicates ok) of ``harness sbc`` in a fresh process."""
    command = [sys.executable, "-m", "harness", "sbc", "--models", MODEL, "--backends", "numpyro", "--sims", str(sims),
               "--warmup", str(WARMUP), "--draws", str(DRAWS), "--target-accept", str(TARGET_ACCEPT),
               "--no-progress", "--out", str(out)] + (["--cores", str(cores)] if cores else [])
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "replicates.jsonl").read_text().splitlines()]
    return wall, sum(r["status"] == "ok" for r in records)


def simuk_sbc(sims: int) -> float:
    """Wall seconds of simuk's run in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", SIMUK, str(sims)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100)
    args = parser.parse_args()
    n = args.sims
    with tempfile.TemporaryDirectory(prefix="simuk-") as scratch:
        harness_sbc(20, None, Path(scratch) / "warm")  # fills the compile caches: both sides warm
        ours = {}
        for cores in (None, 1):
            wall, ok = harness_sbc(n, cores, Path(scratch) / f"cores-{cores}")
            ours[cores] = wall
            print(f"harness sbc ({'default cores' if cores is None else '--cores 1'}): {n} replicates "
                  f"({ok} ok) in {wall:.1f} s", flush=True)
    theirs = simuk_sbc(n)
    print(f"simuk 0.3: {n} replicates in {theirs:.1f} s; 1,000 extrapolated: {theirs * 1000 / n:.0f} s", flush=True)
    for cores, wall in ours.items():
        print(f"ratio simuk / harness ({'default cores' if cores is None else '--cores 1'}) at {n}: "
              f"{theirs / wall:.1f}x", flush=True)


if __name__ == "__main__":
    main()
