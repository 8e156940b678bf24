"""Sessions: ``nox -s tests`` (default), ``bench``, ``sbc``, ``report``, ``regression``, ``perf``.

Every session installs the harness with all four backends into its own virtualenv. PyTorch is
installed first, pinned to the CPU wheel, so that pyro-ppl does not pull a CUDA build.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"

TORCH = os.environ.get("PPL_HARNESS_TORCH", "torch==2.13.0")
RUNS = Path("results") / "runs"


def install(session: nox.Session) -> None:
    session.install("setuptools<81", "wheel")
    session.install(TORCH)
    session.install("-e", ".[all,test]")


def stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def latest(base: Path, prefix: str = "") -> Path | None:
    """The most recently written run directory under ``base`` (optionally whose name starts with prefix)."""
    runs = [p for p in base.glob(f"{prefix}*") if (p / "manifest.json").is_file()] if base.is_dir() else []
    return max(runs, key=lambda p: (p / "manifest.json").stat().st_mtime) if runs else None


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (fast tests; ``nox -s tests -- -m slow`` for the long ones)."""
    install(session)
    args = session.posargs or ["-m", "not slow"]
    # exit code 5 = no test selected (e.g. an empty marker selection): not a failure
    session.run("pytest", *args, success_codes=[0, 5])


@nox.session
def bench(session: nox.Session) -> None:
    """The default benchmark: every model x the four backends, 4 chains x 1000 warm-up x 1000 draws."""
    install(session)
    out = RUNS / f"bench-{stamp()}"
    session.run("python", "-m", "harness", "run", "--models", "all", "--chains", "4", "--warmup", "1000",
                "--draws", "1000", "--repeats", "1", "--out", str(out), *session.posargs)


@nox.session
def sbc(session: nox.Session) -> None:
    """Simulation-based calibration of every model x backend (see README for its run time)."""
    install(session)
    session.run("python", "-m", "harness", "sbc", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """HTML + Markdown report of the latest benchmark run (or the run given after --)."""
    install(session)
    run_dir = session.posargs[0] if session.posargs else (latest(RUNS, "bench-") or latest(RUNS))
    if run_dir is None:
        session.error("no benchmark run under results/runs; run `nox -s bench` first")
    session.run("python", "-m", "harness", "report", str(run_dir), *session.posargs[1:])


BASELINE = Path("results") / "baselines" / "quick"


@nox.session
def regression(session: nox.Session) -> None:
    """CI regression gate: run the quick suite (harness/compare/quick.py) and compare it with the baseline.

    Runs into results/runs/regression-<stamp>, writes the comparison next to it (compare.md) and
    fails when ``harness compare`` finds a regression. Arguments after -- go to ``harness compare``
    (e.g. --strict, --fail-on-deterministic, --factor 1.2).
    """
    install(session)
    out = RUNS / f"regression-{stamp()}"
    session.run("python", "-m", "harness.compare.quick", str(out), "--no-progress")
    session.run("python", "-m", "harness", "compare", str(BASELINE), str(out), "--out", str(out / "compare.md"),
                *session.posargs)


@nox.session
def perf(session: nox.Session) -> None:
    """Per-gradient micro-benchmarks (tests/benchmarks) -> results/perf/<stamp>.json, compared with the last run.

    Every run is also saved in pytest-benchmark's storage (.benchmarks/); when an earlier run exists
    there, this one is compared with it and fails if a minimum got more than 25 % slower (the minimum:
    noise on a shared machine only ever adds time). Arguments after -- go to pytest, e.g.
    ``-- --benchmark-compare=0001 --benchmark-compare-fail=median:10%`` or ``-- -k normal_mean``.
    """
    install(session)
    perf_dir = Path("results") / "perf"
    perf_dir.mkdir(parents=True, exist_ok=True)
    args = ["pytest", "tests/benchmarks", "--run-perf", "--benchmark-only",
            f"--benchmark-json={perf_dir / (stamp() + '.json')}", "--benchmark-storage=file://.benchmarks",
            "--benchmark-autosave", "--benchmark-columns=min,median,mean,stddev,rounds"]
    saved = list(Path(".benchmarks").glob("*/*.json"))
    if saved and not any(a.startswith("--benchmark-compare") for a in session.posargs):
        args += ["--benchmark-compare", "--benchmark-compare-fail=min:25%"]
    session.run(*args, *session.posargs)
