"""Cost of SBC's two inner steps, so that ``nox -s perf`` catches a regression of either.

* ``test_rank_step``: ``harness.sbc.ranks.replicate_ranks`` on one fit's draws of
  ``eight_schools_noncentered`` (1 chain x 500 draws, the SBC default): thinning, the test quantities
  (``loglik`` and ``joint`` of every draw, in one vectorised call) and the ranks. Pure numpy.
* ``test_sbc_batch``: one worker task of ``DEFAULT_BATCH`` replicates of ``eight_schools_noncentered``
  on every installed backend with ``sample_batch`` (simulate, fit in one vectorised call, rank), the
  unit the SBC runner hands a worker. The program is compiled, and the batch run once, before timing.

Both use the SBC defaults of ``harness.sbc.plan`` (1 chain x 500 warm-up x 500 draws, L = 39).
"""

import numpy as np
import pytest

from harness.backends import default_backends, get_backend, load_module, unavailable_reason
from harness.backends.base import SupportsBatch
from harness.catalogue import get_model
from harness.sbc.plan import DEFAULT_BATCH, DEFAULT_KEPT, SBCPlan
from harness.sbc.ranks import replicate_ranks
from harness.sbc.worker import Task, clear_cache, run_task

MODEL = "eight_schools_noncentered"
BATCHED = [b for b in default_backends() if isinstance(load_module(b), SupportsBatch)]


def test_rank_step(benchmark):
    spec = get_model(MODEL)
    data = spec.data()
    rng = np.random.default_rng(0)
    draws_per_chain = SBCPlan(models=[MODEL], backends=[], sims={}).settings.draws
    truth = spec.sample_prior(rng, data)
    # draws shaped (chain, draw, *shape), as a fit returns them: prior draws stand in for a posterior
    draws = {p.name: np.stack([np.asarray(spec.sample_prior(rng, data)[p.name]) for _ in range(draws_per_chain)])[None]
             for p in spec.params}
    benchmark.group = "sbc"
    benchmark.extra_info.update({"model": MODEL, "draws": draws_per_chain, "kept": DEFAULT_KEPT,
                                 "batched_density": bool(spec.batched_density)})
    result = benchmark(lambda: replicate_ranks(spec, data, truth, draws, DEFAULT_KEPT, np.random.default_rng(1)))
    assert set(result.ranks) and all(0 <= r <= DEFAULT_KEPT for r in result.ranks.values())


@pytest.mark.parametrize("backend", BATCHED)
def test_sbc_batch(benchmark, backend):
    reason = unavailable_reason(backend)
    if reason:
        pytest.skip(reason)
    plan = SBCPlan(models=[MODEL], backends=[backend], sims={backend: DEFAULT_BATCH})
    task = Task(MODEL, backend, tuple(range(DEFAULT_BATCH)), plan.settings.to_dict(), plan.root_seed, plan.kept,
                DEFAULT_BATCH)
    clear_cache()
    first = run_task(task)  # compiles the batched program, and runs it once
    assert [r["status"] for r in first] == ["ok"] * DEFAULT_BATCH, first[0]
    benchmark.group = "sbc"
    benchmark.extra_info.update({"model": MODEL, "backend": backend, "replicates": DEFAULT_BATCH,
                                 "versions": get_backend(backend).versions()})
    records = benchmark.pedantic(run_task, args=(task,), rounds=3, iterations=1)
    assert len(records) == DEFAULT_BATCH
