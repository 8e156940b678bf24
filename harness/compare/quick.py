"""The quick suite of the regression gate, defined once: ``python -m harness.compare.quick OUT``.

It runs ``QUICK_SUITE`` with ``python -m harness run`` into OUT and, unless the runner already wrote
one, the log-density equivalence check into ``OUT/equivalence.csv``. The committed baseline
``results/baselines/quick`` was made with ``python -m harness.compare.quick results/baselines/quick
--no-logs``; ``nox -s regression`` runs it again and compares the two with ``harness compare``.

Six repeats per cell: the smallest number with which the gate's exact rank test can reach
p < 0.003 (see ``harness.compare.stats``; with fewer the comparison is advisory). Sampling phases
are made long enough to measure: 2 chains x 2000 draws, and ``normal_mean`` at K=50,000
observations, so that most cells sample for 0.5-2 s (a 0.1 s phase varies far more between repeats
than the slowdowns the gate is meant to catch). Pyro is left out: it is 30-100x slower than the
others and would make the suite take most of an hour. It took 12.5 minutes on the 2-core VM at a load
of 8 (other jobs running); less on an idle machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def quick_backends() -> list[str]:
    """The quick suite's backends: every default backend whose capabilities say ``quick_suite``."""
    from harness.backends import capabilities, default_backends

    return [b for b in default_backends() if capabilities(b).quick_suite]


QUICK_SUITE = {
    "models": ["eight_schools_noncentered", "normal_mean"],
    "backends": quick_backends(),
    "chains": 2,
    "warmup": 300,
    "draws": 2000,
    "sizes": ["K=50000"],  # normal_mean's data size; eight_schools has a fixed size
    "repeats": 6,
    "seed": 0,
}


def run_argv(out: Path, suite: dict = QUICK_SUITE) -> list[str]:
    """``harness`` CLI arguments that run the suite into ``out``."""
    return ["run", "--models", ",".join(suite["models"]), "--backends", ",".join(suite["backends"]),
            "--chains", str(suite["chains"]), "--warmup", str(suite["warmup"]), "--draws", str(suite["draws"]),
            *[arg for size in suite.get("sizes", []) for arg in ("--size", size)],
            "--repeats", str(suite["repeats"]), "--seed", str(suite["seed"]), "--out", str(out)]


def equivalence_argv(out: Path, suite: dict = QUICK_SUITE) -> list[str]:
    return [sys.executable, "-m", "harness.equivalence", "--models", ",".join(suite["models"]),
            "--backends", ",".join(suite["backends"]), "--out", str(out / "equivalence.csv")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.compare.quick", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="run directory to create")
    parser.add_argument("--no-logs", action="store_true", help="delete OUT/logs afterwards (for a committed baseline)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} exists and is not empty", file=sys.stderr)
        return 2
    from harness.run import command as run_command
    from harness.threads import worker_env

    run_parser = argparse.ArgumentParser(prog="python -m harness run")
    run_command.configure(run_parser)
    argv = run_argv(args.out)[1:] + (["--no-progress"] if args.no_progress else [])
    rc = run_command.command(run_parser.parse_args(argv))
    if rc != 0:
        return rc
    if not (args.out / "equivalence.csv").exists():
        # the equivalence step exits 1 when a pair disagrees: that is a result, compared by `harness compare`
        subprocess.run(equivalence_argv(args.out), env=worker_env(1, "cpu"), check=False)
    if args.no_logs:
        shutil.rmtree(args.out / "logs", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
