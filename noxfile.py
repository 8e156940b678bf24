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


def latest(base: Path) -> Path | None:
    runs = sorted(p for p in base.glob("*") if p.is_dir()) if base.is_dir() else []
    return runs[-1] if runs else None


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
    run_dir = session.posargs[0] if session.posargs else latest(RUNS)
    if run_dir is None:
        session.error("no benchmark run under results/runs; run `nox -s bench` first")
    session.run("python", "-m", "harness", "report", str(run_dir), *session.posargs[1:])
