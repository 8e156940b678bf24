"""A plain Dask cluster, started the way a new user starts one (``dask scheduler``, ``dask worker
ADDRESS --nworkers 2 --nthreads 1``: no custom resources), runs benchmark cells and SBC replicates,
one per worker thread, with results bit-identical to the embedded cluster's, and says so in the
run's provenance."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.run.plan import RunPlan
from harness.run.runner import run
from harness.sbc.run import run_sbc
from tests.test_dask_runner import TINY, deterministic
from tests.test_sbc_dask import deterministic as sbc_deterministic
from tests.test_sbc_dask import plan as sbc_plan


@pytest.fixture
def plain_cluster(tmp_path):
    """A scheduler and two single-threaded workers as separate processes, no resources declared."""
    if not (Path(sys.executable).with_name("dask").exists() or shutil.which("dask")):
        pytest.skip("the dask command is not installed")
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    log = open(tmp_path / "scheduler.log", "w")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
                                 stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    address = None
    for _ in range(300):
        found = re.search(r"Scheduler at:\s+(tcp://[\d.]+:\d+)", (tmp_path / "scheduler.log").read_text())
        if found:
            address = found.group(1)
            break
        time.sleep(0.1)
    assert address, (tmp_path / "scheduler.log").read_text()
    wlog = open(tmp_path / "workers.log", "w")  # noqa: SIM115 - closed below
    workers = subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                               stdout=wlog, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield address
    finally:
        for proc in (workers, scheduler):
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait()
        log.close()
        wlog.close()


def test_a_plain_cluster_runs_cells_one_per_thread_bit_identical_to_the_embedded_one(tmp_path, plain_cluster):
    plan = RunPlan(models=["normal_mean"], backends=["fake_exact", "fake_sleepy"], settings=TINY, repeats=2,
                   root_seed=3, equivalence=False)
    embedded = run(plan, tmp_path / "embedded", progress=False, workers=2)
    plain = run(plan, tmp_path / "plain", progress=False, scheduler=plain_cluster)
    assert deterministic(plain) == deterministic(embedded) and len(deterministic(plain)) == 4
    placement = json.loads((plain / "manifest.json").read_text())["execution"]["placement"]
    assert placement["rule"] == "one task per worker thread" and placement["threads"] == 2
    assert "declare no 'cores' resource" in placement["note"]
    declared = json.loads((embedded / "manifest.json").read_text())["execution"]["placement"]
    assert declared["rule"] == "declared resources" and declared["claims"] == "cores=1"


def test_a_plain_cluster_runs_sbc_with_the_embedded_ranks(tmp_path, plain_cluster):
    embedded = run_sbc(sbc_plan(sims=6), tmp_path / "embedded", cores=2, progress=False, figures=False,
                       log=lambda m: None)
    plain = run_sbc(sbc_plan(sims=6), tmp_path / "plain", scheduler=plain_cluster, progress=False, figures=False,
                    log=lambda m: None)
    assert sbc_deterministic(plain) == sbc_deterministic(embedded) and len(sbc_deterministic(plain)) == 12
    placement = json.loads((plain / "manifest.json").read_text())["execution"]["placement"]
    assert placement["rule"] == "one task per worker thread"
