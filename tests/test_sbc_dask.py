"""SBC on dask.distributed: ranks independent of the worker count, one compile per worker, --scheduler."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from harness.cli import main
from harness.sbc.plan import SBCPlan
from harness.sbc.run import run_sbc
from harness.sbc.store import SBCStore
from harness.settings import SamplerSettings
from tests.helpers import has_row

FAST = SamplerSettings(chains=1, warmup=10, draws=200, cores=1)
FIELDS = ("status", "ranks", "seed", "divergences", "thin", "n_kept", "error")


def plan(sims: int = 12, backends=("fake_exact", "fake_sleepy")) -> SBCPlan:
    return SBCPlan(models=["normal_mean"], backends=list(backends), sims={b: sims for b in backends}, settings=FAST,
                   root_seed=7)


def deterministic(out) -> dict:
    return {key: tuple(str(rec.get(f)) for f in FIELDS) for key, rec in SBCStore(out).records().items()}


def gone(pids: set[int], wait_s: float = 10.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.add(pid)
            except ProcessLookupError:
                pass
            except PermissionError:
                alive.add(pid)
        if not alive:
            return True
        time.sleep(0.2)
    return False


def fit_processes(out) -> dict[str, set[str]]:
    """backend -> the fit processes (host:pid) that ran its replicates."""
    out_map: dict[str, set[str]] = {}
    for (_, backend, _), rec in SBCStore(out).records().items():
        out_map.setdefault(backend, set()).add(rec["worker"])
    return out_map


def test_one_and_two_workers_give_identical_ranks_and_each_worker_compiles_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PPL_FAKE_SLOW_S", "0.05")  # fake_sleepy: tasks overlap and finish out of plan order
    one = run_sbc(plan(), tmp_path / "one", cores=1, progress=False, figures=False, log=lambda m: None)
    two = run_sbc(plan(), tmp_path / "two", cores=2, progress=False, figures=False, log=lambda m: None)
    a, b = deterministic(one), deterministic(two)
    assert len(a) == 24 and a == b
    assert all(v[0] == "ok" for v in a.values())
    pd.testing.assert_frame_equal(pd.read_csv(one / "ranks.csv"), pd.read_csv(two / "ranks.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(one / "summary.csv")[["model", "backend", "sims", "ok", "p_value"]],
                                  pd.read_csv(two / "summary.csv")[["model", "backend", "sims", "ok", "p_value"]])
    for out, workers in ((one, 1), (two, 2)):
        records = SBCStore(out).records().values()
        procs = fit_processes(out)
        assert all(1 <= len(p) <= workers for p in procs.values())
        # each fit process compiled each backend's model once: exactly one of its tasks did
        for backend, processes in procs.items():
            for proc in processes:
                compiled = [r for r in records if r["backend"] == backend and r["worker"] == proc and r["compiled"]]
                assert len(compiled) == 1, (backend, proc)
        # the fit processes are gone with the run
        assert gone({int(p.rsplit(":", 1)[1]) for ps in procs.values() for p in ps})
    manifest = pd.read_json(two / "manifest.json", typ="series")
    assert manifest["execution"]["placement"]["workers"] == 2  # the placement rule is recorded
    assert {k: v for k, v in manifest["execution"].items() if k != "placement"} == {
        "scheduler": "embedded LocalCluster", "workers": 2}


def test_scheduler_runs_the_same_plan_on_an_existing_cluster(tmp_path, capsys):
    from harness.cluster import dask_client

    embedded = run_sbc(plan(6, ["fake_exact"]), tmp_path / "embedded", cores=1, progress=False, figures=False,
                       log=lambda m: None)
    out = tmp_path / "remote"
    args = ["sbc", "--models", "normal_mean", "--backends", "fake_exact", "--sims", "6", "--seed", "7",
            "--warmup", "10", "--draws", "200", "--no-progress", "--no-figures", "--out", str(out)]
    with dask_client(None, cores=1, workers=2) as client:
        address = client.scheduler.address
        assert main(args + ["--scheduler", address, "--cores", "2"]) == 2  # --cores sizes the embedded cluster only
        assert "--scheduler" in capsys.readouterr().err
        assert main(args + ["--scheduler", address]) == 0
        assert has_row(capsys.readouterr().out, "normal_mean", "fake_exact", "6")
        # the cluster lives on; the run's fit processes on its workers were stopped
        pids = {int(p.rsplit(":", 1)[1]) for ps in fit_processes(out).values() for p in ps}
        assert pids and gone(pids)
        assert len(client.scheduler_info()["workers"]) == 2
    assert deterministic(out) == deterministic(embedded)
    manifest = pd.read_json(out / "manifest.json", typ="series")
    assert {k: v for k, v in manifest["execution"].items() if k != "placement"} == {"scheduler": address}


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    args = ["sbc", "--models", "normal_mean", "--backends", "fake_exact", "--sims", "2", "--no-progress",
            "--no-figures", "--out", str(tmp_path / "run"), "--scheduler", "tcp://127.0.0.1:9"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("harness.cluster.CONNECT_TIMEOUT_S", 2.0)
        assert main(args) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
