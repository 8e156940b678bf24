"""``nox -s regression`` in its default mode works end to end from a clone: side A is a real git ref,
the output directory is relative to the working directory (as the noxfile passes it), and both sides'
results land there (not in side A's checkout in the harness cache)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_gates_default_command_line_with_a_relative_out_on_a_git_ref(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    sys.path.insert(0, str(ROOT))
    import noxfile

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    out = Path("results") / "runs" / "regression-test"
    small = ["--models", "normal_mean", "--backends", "fake_exact", "--chains", "1", "--warmup", "10", "--draws", "50",
             "--size", "K=100", "--repeats", "2"]
    argv = noxfile.regression_argv("HEAD", out, small)
    assert argv[:7] == ["ab", "--a", "HEAD", "--b", "current", "--out", str(out)]  # what the session runs
    env = {**os.environ, "PYTHONPATH": str(clone), "PPL_HARNESS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "harness", *argv], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for side in ("a", "b"):
        assert len(list((clone / out / side / "cells").glob("*.json"))) == 2, side
    assert (clone / out / "compare.md").read_text().startswith("## ppl-harness A/B")
    assert (clone / out / "junit.xml").is_file()
    worktrees = list((tmp_path / "cache").rglob("regression-test"))
    assert not worktrees, f"results landed in side A's checkout: {worktrees}"
