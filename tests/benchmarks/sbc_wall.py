"""End-to-end wall time of one SBC command, cold and warm (a benchmark, not a test).

    python tests/benchmarks/sbc_wall.py [--sims 1000] [--backend numpyro] [--repeats 3] [--tree CHECKOUT]

Each repeat runs ``python -m harness sbc --models eight_schools_noncentered --backends BACKEND --sims N``
twice from the shell with a fresh, empty ``$PPL_HARNESS_CACHE`` (a new temporary folder per repeat):
first cold (no JAX caches, no traced programs), then warm (the same cache). Prints each wall time
(interpreter start and imports included), the run's own breakdown line, and the median of each kind.
``--tree`` times another checkout of the harness (default: this one), so one script compares two
commits; nothing else may run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "eight_schools_noncentered"


def timed_run(tree: Path, sims: int, backend: str, cache: str, out: Path) -> tuple[float, str]:
    """(seconds, the run's breakdown line) of one SBC command with ``cache`` as the harness cache."""
    command = [sys.executable, "-m", "harness", "sbc", "--models", MODEL, "--backends", backend,
               "--sims", str(sims), "--no-progress", "--out", str(out)]
    env = {**os.environ, "PPL_HARNESS_CACHE": cache}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    line = next((x for x in (done.stdout + done.stderr).splitlines()[::-1] if " replicates in " in x), "")
    return seconds, line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--backend", default="numpyro")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="sbc-wall-") as scratch:
        for repeat in range(args.repeats):
            cache = tempfile.mkdtemp(dir=scratch, prefix="cache-")
            for kind in ("cold", "warm"):
                seconds, line = timed_run(args.tree.resolve(), args.sims, args.backend, cache, Path(scratch) / f"{kind}{repeat}")
                times[kind].append(seconds)
                print(f"{kind} {repeat + 1}: {seconds:.1f} s | {line}", flush=True)
    for kind, values in times.items():
        print(f"{kind}: median {statistics.median(values):.1f} s over {len(values)} "
              f"({', '.join(f'{v:.1f}' for v in values)})")


if __name__ == "__main__":
    main()
