"""A benchmark killed at any moment loses only the cells that were running; ``--resume`` finishes it.

The runner is started as ``python -m harness run`` in its own process group and SIGKILLed while a cell
compiles, while a cell samples, and while the tables are being written; each time it is resumed. The
resumed run must hold valid files only, every cell once, and the deterministic columns of an
uninterrupted run.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from harness.cli import main as cli_main
from harness.run.plan import RunPlan
from harness.run.runner import run
from harness.settings import SamplerSettings

PLAN = ["--models", "normal_mean", "--backends", "fake_sleepy,fake_exact", "--chains", "2", "--warmup", "10",
        "--draws", "100", "--repeats", "2", "--seed", "7", "--no-progress", "--no-equivalence", "--workers", "2"]
DETERMINISTIC = ["cell_id", "status", "seed", "draws_digest", "n_grad", "ess_bulk_min"]

# the CLI, with the table write slowed down on request: the runner can be killed half way through it
DRIVER = """
import os, sys, tempfile, time
from pathlib import Path
import harness.results as results
if os.environ.get("PPL_TEST_SLOW_WRITE"):
    def slow_write_csv(path, frame):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        frame.to_csv(tmp, index=False)
        Path(os.environ["PPL_FAKE_MARKERS"], "writing").touch()
        time.sleep(3)
        os.replace(tmp, path)
    results.write_csv_atomic = slow_write_csv
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start(args, markers: Path, slow_write=False):
    env = {**os.environ, "PPL_FAKE_MARKERS": str(markers), "PPL_FAKE_SLOW_S": "0.4"}
    if slow_write:
        env["PPL_TEST_SLOW_WRITE"] = "1"
    return subprocess.Popen([sys.executable, "-c", DRIVER, "run", *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_when(proc, markers: Path, prefix: str, before: int, timeout=90.0) -> None:
    """SIGKILL the runner's whole process group once a new ``prefix`` marker appears."""
    deadline = time.monotonic() + timeout
    while len(list(markers.glob(prefix + "*"))) <= before:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the kill point {prefix!r}:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"kill point {prefix!r} never reached")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def count(markers: Path, prefix: str) -> int:
    return len(list(markers.glob(prefix + "*")))


def assert_valid_files(run_dir: Path, allow_partial_temporaries: bool) -> None:
    """Every file of the run reads as what it claims to be (temporaries of a killed write aside)."""
    for path in run_dir.rglob("*"):
        if path.is_dir():
            continue
        if path.name.endswith(".tmp"):
            assert allow_partial_temporaries, f"{path} left behind"
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            pd.read_csv(path)
        elif path.suffix == ".parquet":
            pq.read_table(path)
    frame = pd.read_csv(run_dir / "results.csv") if (run_dir / "results.csv").exists() else pd.DataFrame()
    if len(frame):
        assert frame["cell_id"].is_unique


def table(run_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(run_dir / "results.csv")
    assert frame["cell_id"].is_unique
    records = sorted((run_dir / "cells").glob("*.json"))
    assert len(records) == len(frame)
    parquet = pq.read_table(run_dir / "results.parquet").to_pandas()
    assert sorted(parquet["cell_id"]) == sorted(frame["cell_id"])
    return frame[DETERMINISTIC].sort_values("cell_id").reset_index(drop=True)


def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    out = tmp_path / "killed"
    reference = tmp_path / "reference"
    assert cli_main(["run", *PLAN, "--out", str(reference)]) == 0

    # 1. during a compile: the first cells are compiling, nothing is stored yet
    kill_when(start([*PLAN, "--out", str(out)], markers), markers, "compile", 0)
    assert_valid_files(out, allow_partial_temporaries=True)
    # 2. during sampling, on resume
    kill_when(start(["--resume", str(out), "--no-progress"], markers), markers, "sample", count(markers, "sample"))
    assert_valid_files(out, allow_partial_temporaries=True)
    # 3. while the tables are written (a half-written temporary is on disk), on resume
    kill_when(start(["--resume", str(out), "--no-progress"], markers, slow_write=True), markers, "writing", 0)
    assert_valid_files(out, allow_partial_temporaries=True)
    done_before = len(list((out / "cells").glob("*.json")))
    assert 0 < done_before < 4

    proc = start(["--resume", str(out), "--no-progress"], markers)
    output = proc.communicate(timeout=180)[0]
    assert proc.returncode == 0, output
    assert_valid_files(out, allow_partial_temporaries=False)
    pd.testing.assert_frame_equal(table(out), table(reference))
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["resumes"]) == 3 and manifest["resumes"][-1]["cells_done"] >= done_before


def test_resume_refuses_a_different_plan_and_skips_finished_cells(tmp_path):
    plan = RunPlan(models=["normal_mean"], backends=["fake_exact"], settings=SamplerSettings(chains=2, warmup=10, draws=50),
                   repeats=2, equivalence=False)
    out = run(plan, tmp_path / "run", progress=False)
    first = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    # a finished cell is never run again; a missing one is
    missing = sorted(first)[0]
    (out / "cells" / missing).unlink()
    run(plan, out, progress=False, resume=True)
    again = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert set(again) == set(first)
    assert all(again[name] == first[name] for name in first if name != missing)

    with pytest.raises(ValueError, match=r"plan differs from the stored one \(repeats: stored 2, given 3; chains: stored 2, given 3\)"):
        run(RunPlan(models=["normal_mean"], backends=["fake_exact"], settings=SamplerSettings(chains=3, warmup=10, draws=50),
                    repeats=3, equivalence=False), out, progress=False, resume=True)
    with pytest.raises(ValueError, match="already holds a run"):
        run(plan, out, progress=False)
    with pytest.raises(ValueError, match="holds no run"):
        run(plan, tmp_path / "nothing", progress=False, resume=True)


def test_cli_resume_takes_the_stored_plan_and_refuses_changes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--models", "normal_mean", "--backends", "fake_exact", "--chains", "2", "--warmup", "10", "--draws", "50",
            "--no-progress", "--no-equivalence"]
    assert cli_main(["run", *args, "--out", str(out)]) == 0
    assert cli_main(["run", "--resume", str(out), "--no-progress", "--no-equivalence"]) == 0
    assert cli_main(["run", "--resume", str(out), "--chains", "2", "--no-progress", "--no-equivalence"]) == 0
    capsys.readouterr()
    assert cli_main(["run", "--resume", str(out), "--draws", "60", "--backends", "fake_exact,fake_raise"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "draws: stored 50, given 60" in err
    assert "backends: stored ['fake_exact'], given ['fake_exact', 'fake_raise']" in err
    assert cli_main(["run", *args, "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
