"""The runner on Dask: results independent of worker count, killed workers retried, killers recorded."""

import json

import pytest

from harness.cluster import local_worker_count
from harness.run.plan import RunPlan
from harness.run.runner import run
from harness.settings import SamplerSettings

TINY = SamplerSettings(chains=2, warmup=10, draws=100)


def records(run_dir):
    out = {}
    for path in (run_dir / "cells").glob("*.json"):
        record = json.loads(path.read_text())
        assert record["cell_id"] not in out
        out[record["cell_id"]] = record
    return out


def deterministic(run_dir):
    return {cid: (r["status"], r["seed"], r.get("draws_digest"), r.get("n_grad")) for cid, r in records(run_dir).items()}


def test_one_and_two_workers_give_identical_results(tmp_path, monkeypatch):
    monkeypatch.setenv("PPL_FAKE_SLOW_S", "0.2")  # cells overlap, so they finish out of plan order
    plan = RunPlan(models=["normal_mean"], backends=["fake_sleepy", "fake_exact"], settings=TINY, repeats=2,
                   root_seed=11, equivalence=False)
    one = deterministic(run(plan, tmp_path / "one", progress=False, workers=1))
    two = deterministic(run(plan, tmp_path / "two", progress=False, workers=2))
    assert len(one) == 4 and one == two
    assert all(status == "ok" and digest for status, _, digest, _ in one.values())


def test_a_killed_worker_is_replaced_and_its_cell_run_again(tmp_path, monkeypatch):
    """The cell kills its Dask worker (not only its own process) once; the retry elsewhere gives the same draws."""
    kills = tmp_path / "kills"
    kills.mkdir()
    monkeypatch.setenv("PPL_FAKE_KILLS", str(kills))
    plan = RunPlan(models=["normal_mean"], backends=["fake_exact", "fake_kill_once"], settings=TINY, repeats=1,
                   equivalence=False)
    got = records(run(plan, tmp_path / "run", progress=False, workers=2))
    assert len(list(kills.iterdir())) == 1  # it did kill a worker
    assert sorted(r["backend"] for r in got.values()) == ["fake_exact", "fake_kill_once"]
    assert {r["status"] for r in got.values()} == {"ok"}
    # same seed, same exact sampler: the retried cell's draws equal the untouched one's
    assert len({r["draws_digest"] for r in got.values()}) == 1


def test_a_cell_that_kills_workers_twice_is_recorded_as_crashed(tmp_path, monkeypatch):
    kills = tmp_path / "kills"
    kills.mkdir()
    monkeypatch.setenv("PPL_FAKE_KILLS", str(kills))
    plan = RunPlan(models=["normal_mean"], backends=["fake_kill_always", "fake_exact"], settings=TINY,
                   equivalence=False)
    got = records(run(plan, tmp_path / "run", progress=False, workers=2))
    status = {r["backend"]: r for r in got.values()}
    assert set(status) == {"fake_kill_always", "fake_exact"}
    assert status["fake_exact"]["status"] == "ok"
    killer = status["fake_kill_always"]
    assert killer["status"] == "crashed" and "KilledWorker" in killer["error"] and "died 2 times" in killer["error"]
    assert killer["seed"] == status["fake_exact"]["seed"]
    assert len(list(kills.iterdir())) == 2  # one retry, then given up


def test_local_cluster_is_sized_to_the_machine(monkeypatch):
    monkeypatch.setattr("harness.cluster.machine_cpus", lambda: list(range(8)))
    assert local_worker_count(cores=1) == 8
    assert local_worker_count(cores=3) == 2
    assert local_worker_count(cores=16) == 1
    assert local_worker_count(cores=1, workers=3) == 3
    with pytest.raises(ValueError, match="--workers must be a positive integer"):
        local_worker_count(cores=1, workers=0)


class FakeClient:
    def __init__(self, *resources):
        self.workers = {f"tcp://w{i}": {"resources": r, "nthreads": 1} for i, r in enumerate(resources)}

    def scheduler_info(self, n_workers=-1):
        return {"workers": self.workers}


def test_cells_claim_cores_and_on_gpu_runs_a_gpu():
    from harness.cluster import capacity, needs_for

    cpu, gpu = SamplerSettings(cores=2), SamplerSettings(cores=2, device="gpu")
    cpu_only = FakeClient({"cores": 4}, {"cores": 2}, {"cores": 1})
    assert needs_for(cpu, cpu_only) == {"cores": 2.0}
    assert capacity(cpu_only, {"cores": 2.0}) == 3  # 2 + 1 + 0: a 1-core worker never runs a 2-core cell
    assert needs_for(gpu, cpu_only) == {"cores": 2.0}  # no GPU anywhere: the cell records `skipped` itself
    mixed = FakeClient({"cores": 8}, {"cores": 4, "gpu": 1}, {"gpu": 2})
    assert needs_for(gpu, mixed) == {"gpu": 1.0, "cores": 2.0}
    assert capacity(mixed, {"gpu": 1.0, "cores": 2.0}) == 1
    assert needs_for(gpu, FakeClient({"gpu": 1})) == {"gpu": 1.0}
