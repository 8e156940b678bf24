"""A declared known deviation (``ModelSpec.known_deviation``) widens exactly the comparisons of its family,
by its bound ``per_observation x n_observed``, and no further.

Synthetic models and fake backends (no library, no compile): runs in about a second.

* tight cases: a family whose values or gradients are off by 0.9 x the bound passes, by 1.1 x fails
  (and 0.9 x fails without the declaration);
* a fake library with Stan's Bernoulli-logit formula (``bernoulli_logit_lpmf`` of Stan Math 4.x, the
  cut-off at 20 lowered to 8 so the error shows at this size) passes every check with the bound derived
  from its formula (2 exp(-8) per observation), fails without it or with a bound 100 times smaller, and
  the reason is stated on the rows of its family only;
* the declaration is validated by ``harness.catalogue.check_declaration``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import special

import harness.backends
import harness.catalogue
from harness.backends.base import Capabilities
from harness.catalogue import check_declaration
from harness.equivalence import REFERENCE, check_long, compare
from harness.equivalence import checks as eq_checks
from harness.spec import ModelSpec, Param, SpecError

N_OBS = 200
PER_OBS = 1e-5  # tight cases: bound per observed value
BOUND = PER_OBS * N_OBS  # 2e-3, far above the base tolerances (~1e-8)
REASON = "a synthetic library bug (test)"


# ---------------------------------------------------------------- a synthetic model


def _logits(params, data):
    return data["X"] @ np.asarray(params["beta"], dtype=np.float64)


def _exact_terms(theta, y):
    """(log p(y | theta) per observation, d/dtheta): exact Bernoulli-logit."""
    signs = 2.0 * y - 1.0
    return -np.logaddexp(0.0, -signs * theta), signs * special.expit(-signs * theta)


def _stan_terms(theta, y, cutoff):
    """Stan Math 4.x ``bernoulli_logit_lpmf`` (prim/prob/bernoulli_logit_lpmf.hpp) with ``cutoff`` for 20:
    for ntheta > cutoff the value and the partial are -exp(-ntheta) (the partial's sign is wrong when
    y = 1, stan-dev/math#3397); for ntheta < -cutoff the value is ntheta (log1p(exp(ntheta)) dropped)."""
    signs = 2.0 * y - 1.0
    nt = signs * theta
    e = np.exp(-nt)
    value = np.where(nt > cutoff, -e, np.where(nt < -cutoff, nt, -np.log1p(e)))
    grad = np.where(nt > cutoff, -e, np.where(nt >= -cutoff, signs * e / (e + 1.0), signs))
    return value, grad


def _log_prior(params, data):
    beta = np.asarray(params["beta"], dtype=np.float64)
    return float(np.sum(-0.5 * (beta / data["prior_sd"]) ** 2))


def _log_likelihood(params, data):
    return float(np.sum(_exact_terms(_logits(params, data), data["y"])[0]))


def _make_data(rng, prior_sd=1.0):
    x = rng.uniform(-1.0, 1.0, size=(N_OBS, 3))  # |d logit / d beta| <= 1: the bound per observation holds
    beta = rng.normal(0.0, 15.0, size=3)
    y = (rng.uniform(size=N_OBS) < special.expit(x @ beta)).astype(np.int64)
    return {"K": 3, "X": x, "y": y, "prior_sd": prior_sd}


def _spec(known_deviation=None, prior_sd=1.0):
    return ModelSpec(
        name="fake_known_deviation", description="synthetic logistic regression", params=(Param("beta", ("K",)),),
        make_data=lambda rng: _make_data(rng, prior_sd),
        sample_prior=lambda rng, data: {"beta": rng.normal(0.0, data["prior_sd"], size=data["K"])},
        log_prior=_log_prior, log_likelihood=_log_likelihood, observed=("y",),
        known_deviation=known_deviation or {},
    )


class _Potential:
    """V(u) = -log p(beta), u = beta, from per-observation terms ``terms(theta, y)``, plus an optional
    synthetic deviation ``shift(u) -> (value error, gradient error)``."""

    own_transform = True

    def __init__(self, data, terms, shift=None):
        self.data, self.terms, self.shift = data, terms, shift

    def to_unconstrained(self, point):
        return np.asarray(point["beta"], dtype=np.float64).reshape(-1).copy()

    def value_and_grad(self, u):
        data = self.data
        value, dtheta = self.terms(data["X"] @ u, data["y"])
        sd2 = data["prior_sd"] ** 2
        v = -float(np.sum(value)) + 0.5 * float(u @ u) / sd2
        g = -(data["X"].T @ dtheta) + u / sd2
        if self.shift is not None:
            dv, dg = self.shift(u)
            v, g = v + dv, g + dg
        return v, g


def _backend(name, family, terms, shift=None, value_shift=None):
    """A fake backend module: ``log_density`` from ``terms`` (+ ``value_shift(k)`` at the k-th point) and a
    potential hook."""

    def log_density(spec, data, points):
        out = []
        for k, p in enumerate(points):
            value = _log_prior(p, data) + float(np.sum(terms(_logits(p, data), data["y"])[0]))
            out.append(value + (value_shift(k) if value_shift else 0.0))
        return np.array(out)

    return SimpleNamespace(
        CAPABILITIES=Capabilities(name=name, family=family, requires=(), packages=(), extra="test", default=False),
        log_density=log_density,
        potential=lambda spec, data: _Potential(data, terms, shift),
    )


@pytest.fixture
def fake_backends(monkeypatch):
    """``install(spec, {name: module})``: the spec is the catalogue's model and the modules its backends."""

    def install(spec, modules):
        monkeypatch.setattr(harness.catalogue, "get_model", lambda name: spec)
        monkeypatch.setattr(harness.backends, "load_module", lambda name: modules[name])
        monkeypatch.setattr(harness.backends, "get_backend", lambda name: modules[name])
        monkeypatch.setattr(eq_checks, "partition", lambda model, backends, size="": (list(backends), []))
        return list(modules)

    return install


def _rows(long, check, a, b):
    rows = long[(long["check"] == check) & (long["a"] == a) & (long["b"] == b)]
    assert len(rows) == 1, (check, a, b, long[["check", "a", "b"]].to_string())
    return rows.iloc[0]


# ---------------------------------------------------------------- tight cases


@pytest.mark.parametrize("factor,declared,passes", [(0.9, True, True), (1.1, True, False), (0.9, False, False)])
def test_density_values_within_the_bound_pass_and_beyond_it_fail(factor, declared, passes):
    """Every value of the deviating family off by ``factor`` x the bound, with alternating signs (the worst
    case for ``lp[i] - lp[0]``, whose tolerance holds the bound once per value: twice)."""
    exact = np.array([-310.0, -295.5, -301.25, -330.0, -299.0])
    off = factor * BOUND * np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    spec = _spec({"stan": (PER_OBS, REASON)} if declared else None)
    data = spec.data()
    allowance = {"stan": spec.deviation_allowance("stan", data)} if declared else {}
    table = compare({REFERENCE: exact, "numpyro": exact + 7.0, "stan": exact + 3.0 + off}, allowance=allowance)
    status = {(r.a, r.b): r.status for r in table.itertuples()}
    assert status[(REFERENCE, "numpyro")] == "pass"
    want = "pass" if passes else "fail"
    assert status[(REFERENCE, "stan")] == want and status[("numpyro", "stan")] == want
    tol = table.set_index(["a", "b"]).loc[(REFERENCE, "numpyro"), "tolerance"]
    assert tol < 1e-7  # the other families' comparisons are not widened


@pytest.mark.parametrize("factor,declared,passes", [(0.9, True, True), (1.1, True, False), (0.9, False, False)])
def test_potentials_and_gradients_within_the_bound_pass_and_beyond_it_fail(factor, declared, passes, fake_backends):
    """A Stan-family potential whose gradient is off by ``factor`` x the bound in every coordinate, and whose
    value is off by -cos(pi (u_0 - u0_0)) x ``factor`` x the bound (-1 at x0, +1 one step along u_0)."""
    spec = _spec({"stan": (PER_OBS, REASON)} if declared else None)
    u00 = np.random.default_rng(11).normal(0.0, 1.0, size=3)[0]  # beta[0] of the first start point (seed 11)

    def shift(u):
        return -factor * BOUND * math.cos(math.pi * (u[0] - u00)), np.full(3, factor * BOUND)

    exact = lambda theta, y: _exact_terms(theta, y)  # noqa: E731
    names = fake_backends(spec, {"numpyro": _backend("numpyro", "numpyro", exact),
                                 "stan": _backend("stan", "stan", exact, shift=shift)})
    long = check_long([spec.name], names, n_points=5, seed=11, checks_wanted=("potential", "gradient"))
    want = "pass" if passes else "fail"
    assert _rows(long, "potential", REFERENCE, "numpyro").status == "pass"
    assert _rows(long, "potential", REFERENCE, "stan").status == want
    assert _rows(long, "potential", "numpyro", "stan").status == want
    assert _rows(long, "gradient", "numpyro", "stan").status == want
    if declared:
        grad = _rows(long, "gradient", "numpyro", "stan")
        assert BOUND < grad.tolerance < BOUND + 1e-6  # the bound once (one deviating side), plus the base tolerance
        assert _rows(long, "potential", REFERENCE, "numpyro").tolerance < 1e-6


# ---------------------------------------------------------------- Stan's formula, end to end


@pytest.mark.parametrize("per_observation,passes", [(2 * math.exp(-8.0) * 1.01, True), (2 * math.exp(-8.0) / 100, False),
                                                    (None, False)])
def test_a_library_with_stans_bernoulli_logit_formula(per_observation, passes, fake_backends):
    """Stan's formula with the cut-off at 8: per observation the value is off by at most exp(-8) and the
    derivative in the logit by at most 2 exp(-8) (the sign flip), and |d logit / d beta| <= 1 here, so
    2 exp(-8) per observation bounds every value and gradient coordinate. Prior draws with sd 15 put
    many logits past the cut-off."""
    declared = {"stan": (per_observation, "Stan Math bernoulli_logit_lpmf cut-off (stan-dev/math#3397)")} \
        if per_observation else None
    spec = _spec(declared, prior_sd=15.0)
    exact = lambda theta, y: _exact_terms(theta, y)  # noqa: E731
    stan = lambda theta, y: _stan_terms(theta, y, 8.0)  # noqa: E731
    names = fake_backends(spec, {"numpyro": _backend("numpyro", "numpyro", exact),
                                 "stan": _backend("stan", "stan", stan), "cmdstanpy": _backend("cmdstanpy", "stan", stan)})
    long = check_long([spec.name], names, n_points=5, seed=11)
    numpyro_only = long[(long["a"].isin([REFERENCE, "numpyro"])) & (long["b"] == "numpyro")]
    assert (numpyro_only["status"] == "pass").all()
    stan_rows = long[long["b"].isin(["stan", "cmdstanpy"])]
    if passes:
        assert (long["status"] == "pass").all(), long[long["status"] != "pass"].to_string()
        assert stan_rows["reference"].str.contains("known stan deviation: ").all()
        assert stan_rows["reference"].str.contains("stan-dev/math#3397").all()
        assert not numpyro_only["reference"].str.contains("known stan deviation").any()
    else:
        failed = set(stan_rows[stan_rows["status"] == "fail"]["check"])
        assert "gradient" in failed, long.to_string()


# ---------------------------------------------------------------- the declaration


@pytest.mark.parametrize("declared,message", [
    ({"jags": (1e-9, REASON)}, "unknown family"),
    ({"stan": (0.0, REASON)}, "positive number"),
    ({"stan": (-1e-9, REASON)}, "positive number"),
    ({"stan": (float("nan"), REASON)}, "positive number"),
    ({"stan": (1e-9, " ")}, "needs its reason"),
    ({"stan": 1e-9}, "must be (per_observation, reason)"),
])
def test_a_bad_declaration_is_refused(declared, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_declaration(_spec(declared))


def test_a_declaration_needs_observed_values():
    spec = _spec({"stan": (1e-9, REASON)})
    import dataclasses

    with pytest.raises(SpecError, match="declare observed"):
        check_declaration(dataclasses.replace(spec, observed=()))
    check_declaration(spec)  # the valid one
    assert spec.deviation_allowance("stan", spec.data()) == pytest.approx(1e-9 * N_OBS)
    assert spec.deviation_allowance("numpyro", spec.data()) == 0.0
