"""Interleaved A/B runs (``python -m harness ab``): ENV resolution, the interleaved plan, merging, and
real A/A and injected-slowdown runs with the ``fake_slow`` test backend (harness/ab/calibration_backend.py)."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.ab.engine import ABPlan, plan_units, run_argv
from harness.ab.envs import EnvError, parse_assignments, parse_requirements, resolve_env
from harness.cli import main
from harness.compare.rows import REGRESSION

ROOT = Path(__file__).resolve().parent.parent
SLOW = "fake_slow=harness.ab.calibration_backend"


@pytest.fixture
def fake_slow(monkeypatch):
    """Register the fake_slow backend for this process and the A/B's subprocesses."""
    extra = os.environ.get("PPL_HARNESS_EXTRA_BACKENDS", "")
    monkeypatch.setenv("PPL_HARNESS_EXTRA_BACKENDS", ",".join(filter(None, [extra, SLOW])))
    monkeypatch.setenv("PPL_FAKE_WORK", "4000")
    monkeypatch.setitem(__import__("harness.backends").backends.REGISTRY, "fake_slow", "harness.ab.calibration_backend")
    return "fake_slow"


def test_requirement_sets_and_assignments_parse():
    assert parse_requirements("numpyro==0.21.0") == ["numpyro==0.21.0"]
    assert parse_requirements("pymc==5.28.5, pytensor==2.38.3 jax>=0.10") == ["pymc==5.28.5", "pytensor==2.38.3", "jax>=0.10"]
    assert parse_requirements("origin/main") is None and parse_requirements("HEAD~1") is None
    assert parse_assignments(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(EnvError):
        parse_assignments(["novalue"])


def test_envs_resolve(tmp_path):
    current = resolve_env("current")
    assert current.kind == "current" and current.python == sys.executable and current.root == ROOT
    py = resolve_env(sys.executable, extra_env={"X": "1"})
    assert py.kind == "python" and py.child_env({})["X"] == "1"
    assert py.child_env({"PYTHONPATH": "/elsewhere"})["PYTHONPATH"].split(os.pathsep) == [str(ROOT), "/elsewhere"]
    with pytest.raises(EnvError, match="not the current checkout, an interpreter, a requirement set"):
        resolve_env("no-such-ref-anywhere", cache=tmp_path)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    git = resolve_env("HEAD", cache=tmp_path)
    try:
        assert git.kind == "git" and git.commit == head.stdout.strip()
        assert (git.root / "harness" / "__init__.py").exists() and git.root != ROOT
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(git.root)], cwd=ROOT, capture_output=True)


def test_units_interleave_and_share_seeds():
    plan = ABPlan(models=["normal_mean", "eight_schools_noncentered"], backends=["stan"], repeats=3, seed=10,
                  sizes=["K=500"])
    units = plan_units(plan)
    assert [(u.repeat, u.model) for u in units][:2] == [(0, "normal_mean"), (0, "eight_schools_noncentered")]
    assert [u.order for u in units] == [("a", "b"), ("b", "a")] * 3
    assert [u.seed for u in units] == [10, 10, 11, 11, 12, 12]
    # the size goes only to the model it fits
    assert "--size" in run_argv(plan, units[0], Path("x")) and "--size" not in run_argv(plan, units[1], Path("x"))


def _ab(tmp_path, repeats, slowdown, *extra, chains=1, draws=400, size="K=200"):
    out = tmp_path / f"ab-{slowdown}"
    rc = main(["ab", "--a", "current", "--b", sys.executable, "--a-env", "PPL_FAKE_SLOWDOWN=0",
               "--b-env", f"PPL_FAKE_SLOWDOWN={slowdown}", "--models", "normal_mean", "--backends", "fake_slow",
               "--chains", str(chains), "--warmup", "50", "--draws", str(draws), "--size", size, "--repeats", str(repeats),
               "--out", str(out), "--no-progress", "--no-prime", "--job-summary", str(tmp_path / "summary.md"), *extra])
    return rc, out


def test_an_a_a_run_passes_and_writes_junit(tmp_path, fake_slow):
    rc, out = _ab(tmp_path, 2, 0)
    assert rc == 0
    for side in ("a", "b"):
        manifest = json.loads((out / side / "manifest.json").read_text())
        assert manifest["ab"]["side"] == side.upper() and manifest["settings"]["repeats"] == 2
        assert manifest["ab"]["versions"]["fake_slow"] == "1.0"
        cells = sorted(p.name for p in (out / side / "cells").glob("*.json"))
        assert cells == ["normal_mean@K=200__fake_slow__cpu__r0.json", "normal_mean@K=200__fake_slow__cpu__r1.json"]
    assert json.loads((out / "b" / "manifest.json").read_text())["ab"]["extra_env"] == {"PPL_FAKE_SLOWDOWN": "0"}
    text = (out / "compare.md").read_text()
    assert text.startswith("## ppl-harness A/B") and "advisory" in text
    # same seeds on both sides: draws and gradient counts are identical, repeat by repeat
    assert "bit-identical draws in 2 runs" in text
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and len(suite.findall("testcase")) > 8
    assert (tmp_path / "summary.md").read_text().startswith("## ppl-harness A/B")


@pytest.mark.slow
def test_an_injected_30_percent_slowdown_is_caught(tmp_path, fake_slow):
    # each gradient a pass over 100,000 numbers, so the fixed per-call cost does not dilute the
    # injected 30 % (with the default 20,000 it shows as only ~1.1x); sampling a few seconds a run
    work = "PPL_FAKE_WORK=100000"
    rc, out = _ab(tmp_path, 6, 0.3, "--a-env", work, "--b-env", work, chains=2, draws=1000, size="K=1000")
    assert rc == 1
    from harness.compare.rows import compare_runs

    cmp = compare_runs(out / "a", out / "b")
    flagged = {r.metric for r in cmp.regressions if r.verdict == REGRESSION}
    assert flagged & {"sample_cpu_s", "sampling_s", "sampling_per_grad"}, flagged
