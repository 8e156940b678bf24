"""Thread caps: the environment a cell's worker gets, and that a real cell stays within its core budget."""

import pytest

from harness.backends import availability, default_backends
from harness.results import load_results
from harness.run.plan import RunPlan
from harness.run.runner import run
from harness.settings import SamplerSettings
from harness.threads import GENERIC_THREAD_VARS, worker_env

# CPU seconds / wall seconds of a cell's sample() with a budget of one core. One busy thread gives
# ~1.0; bookkeeping threads (GC, dispatch, a server's event loop) add a few percent; a second busy
# thread on this 2-core machine would give ~2.0. Checked only on runs long enough for /proc's
# 10 ms ticks to resolve it.
MAX_CPU_PER_WALL = 1.3
MIN_SAMPLE_WALL_S = 0.5


def test_generic_pools_and_every_backend_hook_are_capped():
    env = worker_env(3, "cpu", {"XLA_FLAGS": ""})
    assert all(env[v] == "3" for v in GENERIC_THREAD_VARS)
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    env1 = worker_env(1, "cpu", {})
    assert "intra_op_parallelism_threads=1" in env1.get("XLA_FLAGS", "")  # from the JAX backends' hook
    assert env1.get("PPL_HARNESS_TORCH_THREADS") == "1"  # from the torch backend's hook
    assert "CUDA_VISIBLE_DEVICES" not in worker_env(1, "gpu", {})


BUDGET = SamplerSettings(chains=2, warmup=500, draws=500, cores=1)


@pytest.mark.parametrize("backend", default_backends())
def test_a_cell_stays_within_its_core_budget(tmp_path, backend):
    if availability()[backend]:
        pytest.skip(f"{backend} unavailable: {availability()[backend]}")
    plan = RunPlan(models=["logistic_regression"], backends=[backend], settings=BUDGET, sizes=[{"N": 2000}],
                   equivalence=False, timeout_s=900)
    frame, _ = load_results(run(plan, tmp_path / "run", progress=False))
    row = frame.iloc[0]
    assert row["status"] == "ok", row["error"]
    if row["sample_wall_s"] < MIN_SAMPLE_WALL_S:
        pytest.skip(f"sampling took {row['sample_wall_s']:.2f} s: too short to measure CPU/wall")
    ratio = row["sample_cpu_s"] / row["sample_wall_s"]
    assert ratio <= MAX_CPU_PER_WALL * BUDGET.cores, f"{backend} used {ratio:.2f} cores with a budget of 1"
