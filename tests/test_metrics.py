import numpy as np

from harness.backends.base import Fit, chain_seeds, stack_chains
from harness.metrics import draws_digest, fit_metrics


def _fit(draws):
    chains, n = next(iter(draws.values())).shape[:2]
    return Fit(draws=draws, diverging=np.zeros((chains, n), bool), n_steps=np.full((chains, n), 3),
               warmup_s=1.0, sampling_s=2.0)


def test_iid_draws_have_full_ess_and_unit_rhat():
    rng = np.random.default_rng(0)
    draws = {"a": rng.normal(size=(4, 1000)), "b": rng.normal(size=(4, 1000, 3))}
    m = fit_metrics(_fit(draws), draws)
    assert 3000 < m["ess_bulk_min"] < 5000
    assert m["rhat_max"] < 1.01
    assert m["n_grad"] == 3 * 4000 and m["divergences"] == 0
    assert abs(m["ess_per_grad"] - m["ess_bulk_min"] / 12000) < 1e-12


def test_stuck_chain_is_flagged_by_rhat_and_ess():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 500))
    a[0] += 5.0  # one chain somewhere else
    m = fit_metrics(_fit({"a": a}), {"a": a})
    assert m["rhat_max"] > 1.1 and m["ess_bulk_min"] < 100


def test_worst_parameter_is_named():
    rng = np.random.default_rng(2)
    b = np.cumsum(rng.normal(size=(2, 400, 2)), axis=1)  # random walk in both components
    a = rng.normal(size=(2, 400))
    m = fit_metrics(_fit({"a": a, "b": b}), {"a": a, "b": b})
    assert m["ess_worst_param"].startswith("b[")


def test_digest_detects_any_change():
    a = {"x": np.arange(6.0).reshape(1, 6)}
    b = {"x": a["x"].copy()}
    assert draws_digest(a) == draws_digest(b)
    b["x"][0, 3] = np.nextafter(b["x"][0, 3], 10)
    assert draws_digest(a) != draws_digest(b)


def test_chain_seeds_are_distinct_and_reproducible():
    assert chain_seeds(5, 4) == chain_seeds(5, 4)
    assert len(set(chain_seeds(5, 4))) == 4
    assert chain_seeds(5, 4) != chain_seeds(6, 4)
    stacked = stack_chains([{"x": np.zeros((3, 2))}, {"x": np.ones((3, 2))}])
    assert stacked["x"].shape == (2, 3, 2)
