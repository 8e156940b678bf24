"""The whole path for a user's model: ``harness new-model`` then ``harness choose``, on both examples,
at tiny sizes (the answers are not meant to be good here; the path is)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.backends import unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--repeats", "1", "--chains", "2", "--warmup", "150", "--draws", "150", "--reference-ess", "400",
        "--sims", "10", "--sbc-warmup", "150", "--sbc-draws", "150", "--budget", "10", "--no-progress"]


def harness(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "harness", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.parametrize("example, source, data, backend", [
    ("school_scores", "pymc_hierarchical/school_scores.py", "pymc_hierarchical/scores.csv", "nutpie"),
    ("bike_rentals", "stan_negbin/bike_rentals.stan", "stan_negbin/rentals.json", "stan"),
])
def test_new_model_then_choose(tmp_path, example, source, data, backend):
    if unavailable_reason(backend):
        pytest.skip(f"{backend} is not installed")
    examples = ROOT / "examples"
    harness("new-model", example, "--from", str(examples / source), "--data", str(examples / data), "--out",
            "my_models", cwd=tmp_path)
    done = harness("choose", f"my_models/{example}", "--backends", backend, "--out", "answer", *TINY, cwd=tmp_path)
    answer = tmp_path / "answer"
    state = json.loads((answer / "choose.json").read_text())
    assert state["sbc_method"] == "posterior"  # the model has real data
    assert (tmp_path / "my_models" / example / "reference" / "summary.csv").is_file()
    results = pd.read_parquet(answer / "run" / "results.parquet")
    # scored against the reference made for it (at these tiny sizes usually "low ESS": too few draws to test)
    assert list(results["status"]) == ["ok"] and results["accuracy"].iloc[0] in ("PASS", "REVIEW", "FAIL", "low ESS")
    sbc = pd.read_csv(answer / "sbc" / "summary.csv")
    assert list(sbc["method"]) == ["posterior"] and int(sbc["sims"].iloc[0]) == 10
    recommendation = (answer / "recommendation.md").read_text()
    assert f"Backend recommendation: {example}" in recommendation and backend in recommendation
    assert f"Backend recommendation: {example}" in done.stdout
    # every step is done: --resume only prints the answer again
    again = harness("choose", "--resume", "answer", "--budget", "1", "--no-progress", cwd=tmp_path)
    assert f"Backend recommendation: {example}" in again.stdout
