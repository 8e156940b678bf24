"""SBC engine cost across git refs (a benchmark, not a test): the Dask engine against the process pool
it replaced, on the same machine, virtualenv and cache.

    python tests/benchmarks/sbc_engines.py [--refs 4b0c375,d2de0d7,HEAD] [--sims 1000] [--repeats 1]

For each ref, a ``git worktree`` of it runs
``python -m harness sbc --models eight_schools_noncentered --backends numpyro --sims N`` (default
workers: one per core) in a fresh run directory, after one unmeasured warm-up run of 20 replicates
that fills the JAX compile cache; prints the end-to-end wall seconds of each run and the replicates
it fitted ok. Default refs: the last commit with the process pool (4b0c375), the commit that moved SBC
to Dask (d2de0d7), and HEAD. Run it with the interpreter of the stack to measure (e.g. the newest
stack's virtualenv); nothing else may run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL, BACKEND = "eight_schools_noncentered", "numpyro"


def sbc(tree: Path, out: Path, sims: int) -> tuple[float, int]:
    """(wall seconds, replicates ok) of one SBC run in worktree ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "harness", "sbc", "--models", MODEL, "--backends", BACKEND,
               "--sims", str(sims), "--no-progress", "--no-figures", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "replicates.jsonl").read_text().splitlines()]
    return wall, sum(r["status"] == "ok" for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", default="4b0c375,d2de0d7,HEAD")
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sbc-engines-") as scratch:
        for ref in args.refs.split(","):
            tree = Path(scratch) / ref
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref],
                           check=True, capture_output=True)
            try:
                sbc(tree, Path(scratch) / f"{ref}-warm", 20)
                for repeat in range(args.repeats):
                    wall, ok = sbc(tree, Path(scratch) / f"{ref}-{repeat}", args.sims)
                    print(f"{ref}: {args.sims} replicates ({ok} ok) in {wall:.1f} s end to end", flush=True)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
