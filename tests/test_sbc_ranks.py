"""Thinning, test quantities, ranks and seeds of one SBC replicate."""

from __future__ import annotations

import numpy as np
import pytest

from harness import diagnostics
from harness.catalogue import get_model
from harness.sbc import ranks
from harness.sbc.worker import replicate_streams, simulate


def ar1(rng, shape, phi):
    """AR(1) chains (chain, draw, P) with lag-1 autocorrelation phi."""
    x = np.empty(shape)
    x[:, 0] = rng.normal(size=(shape[0], shape[2]))
    noise = rng.normal(size=shape) * np.sqrt(1 - phi ** 2)
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


@pytest.mark.parametrize("shape,phi", [((1, 500, 4), 0.0), ((1, 500, 3), 0.9), ((4, 101, 2), 0.5), ((2, 7, 1), 0.3)])
def test_ess_bulk_equals_arviz(shape, phi):
    x = ar1(np.random.default_rng(1), shape, phi)
    x[..., 0] = np.round(x[..., 0], 1)  # ties in the rank normalisation
    expected = [float(diagnostics.ess({"x": x[:, :, j]}, "bulk")["x"]) for j in range(shape[2])]
    np.testing.assert_allclose(ranks.ess_bulk(x), expected, rtol=1e-10)


def test_thinning_keeps_l_draws_about_one_ess_apart():
    x = ar1(np.random.default_rng(2), (1, 500, 2), 0.8)  # ESS ~ 500 (1 - 0.8) / (1 + 0.8) ~ 55
    t = ranks.thin(x, 39)
    assert t.enough and len(t.draw) == 39 == len(set(t.draw))
    assert t.factor == int(np.ceil(500 / t.ess)) and t.factor >= 5
    assert np.all(t.draw % t.factor == 0) and np.min(np.diff(t.draw)) >= t.factor


def test_too_few_independent_draws_is_flagged():
    x = ar1(np.random.default_rng(3), (1, 500, 1), 0.97)  # ESS ~ 8
    t = ranks.thin(x, 39)
    assert not t.enough and t.candidates < 39
    assert len(t.draw) == 39  # still L draws, for inspection only


def test_thinning_spans_every_chain():
    x = np.random.default_rng(4).normal(size=(4, 100, 2))
    t = ranks.thin(x, 39)
    assert set(t.chain) == {0, 1, 2, 3}


def test_ties_are_broken_uniformly():
    rng = np.random.default_rng(5)
    draws = np.zeros((9, 1))  # every draw equals the true value
    r = np.array([ranks.rank_of(np.zeros(1), draws, rng)[0] for _ in range(20000)])
    counts = np.bincount(r, minlength=10)
    assert r.min() == 0 and r.max() == 9
    assert np.all(np.abs(counts / 20000 - 0.1) < 0.01)


def test_rank_counts_draws_below_the_truth():
    rng = np.random.default_rng(6)
    draws = np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]])
    assert list(ranks.rank_of(np.array([2.5, 0.0]), draws, rng)) == [2, 0]


def test_quantities_are_every_component_plus_loglik_and_joint():
    spec = get_model("eight_schools_noncentered")
    names = ranks.quantity_names(spec, spec.data())
    assert names[:3] == ["mu", "tau", "theta_trans[0]"] and names[-3:] == ["theta_trans[7]", "loglik", "joint"]
    assert len(names) == 12


def test_quantity_values_use_the_reference_densities():
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    point = spec.sample_prior(np.random.default_rng(0), data)
    values = ranks.quantity_values(spec, data, point)
    assert values[-2] == pytest.approx(spec.log_likelihood(point, data))
    assert values[-1] == pytest.approx(spec.log_density(point, data))
    assert values[0] == pytest.approx(point["mu"]) and values[2:10] == pytest.approx(point["theta_trans"])


def test_replicate_seeds_depend_on_root_seed_model_and_index_only():
    a = replicate_streams(0, "normal_mean", 3)
    b = replicate_streams(0, "normal_mean", 3)
    assert a[1] == b[1] and a[0].normal() == b[0].normal()
    assert replicate_streams(0, "normal_mean", 4)[1] != a[1]
    assert replicate_streams(1, "normal_mean", 3)[1] != a[1]
    assert replicate_streams(0, "two_groups_pooled", 3)[1] != a[1]
    spec = get_model("eight_schools_noncentered")
    t1, d1, s1, _ = simulate(spec, spec.data(), 0, 5)
    t2, d2, s2, _ = simulate(spec, spec.data(), 0, 5)
    assert s1 == s2 and t1["mu"] == t2["mu"] and np.array_equal(d1["y"], d2["y"])
    assert not np.array_equal(d1["y"], spec.data()["y"])  # the observed entries are simulated


def test_replicate_ranks_of_a_correct_fit():
    spec = get_model("normal_mean")
    data = spec.data(K=20)
    rng = np.random.default_rng(8)
    truth = spec.sample_prior(rng, data)
    sim = spec.simulate(rng, truth, data)
    precision = 1 / 100 + 20
    draws = {"mu": rng.normal(sim["x"].sum() / precision, precision ** -0.5, (2, 300))}
    r = ranks.replicate_ranks(spec, sim, truth, draws, 39, rng)
    assert r.status == "ok" and set(r.ranks) == {"mu", "loglik", "joint"}
    assert all(0 <= v <= 39 for v in r.ranks.values())


def test_nan_quantity_raises():
    spec = get_model("normal_mean")
    data = spec.data(K=5)
    draws = {"mu": np.full((1, 100), np.nan)}
    with pytest.raises(FloatingPointError):
        ranks.replicate_ranks(spec, data, {"mu": 0.0}, draws, 9, np.random.default_rng(0))
