"""Where the equivalence checks evaluate (``harness.equivalence``), on synthetic models and fake backends
(no library, no compile): about a second.

* Start points: a prior draw where the reference log density is not finite (a heavy-tailed prior whose
  draw overflows the likelihood) is skipped and the next draw of the same stream is taken; when the
  first draws are all finite the points are exactly those draws; when no draw is finite the checks
  fail and say why.
* Round trips: a backend that evaluates at unconstrain-then-constrain of the point it is given (Stan)
  is compared with the numpy density at that round-tripped point (its ``evaluated_points`` hook), so a
  density steep enough to turn the one-ulp move into more than a rounding error of its value is still
  compared exactly; the same backend without the hook fails, and a density off by 0.1% still fails
  with it.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

import harness.backends
import harness.catalogue
from harness.backends.base import Capabilities
from harness.equivalence import REFERENCE, check_long, declaration, summarise
from harness.equivalence import checks as eq_checks
from harness.equivalence import points as pts
from harness.spec import ModelSpec, Param
from harness.unconstrained import constrain, unconstrain


@pytest.fixture
def fake_backends(monkeypatch):
    """``install(spec, {name: module})``: the spec is the catalogue's model and the modules its backends."""

    def install(spec, modules):
        monkeypatch.setattr(harness.catalogue, "get_model", lambda name: spec)
        monkeypatch.setattr(harness.backends, "load_module", lambda name: modules[name])
        monkeypatch.setattr(harness.backends, "get_backend", lambda name: modules[name])
        monkeypatch.setattr(eq_checks, "partition", lambda model, backends, size="": (list(backends), []))
        monkeypatch.setattr(declaration, "declaration_rows", lambda model, backends: [])  # no model folder
        return list(modules)

    return install


def _module(name, family, log_density, potential, evaluated_points=None):
    extra = {"evaluated_points": evaluated_points} if evaluated_points else {}
    return SimpleNamespace(
        CAPABILITIES=Capabilities(name=name, family=family, requires=(), packages=(), extra="test", default=False),
        log_density=log_density, potential=potential, **extra)


def _rows(long, check, b, a=REFERENCE):
    rows = long[(long["check"] == check) & (long["a"] == a) & (long["b"] == b)]
    assert not rows.empty, (check, a, b, long[["check", "a", "b"]].to_string())
    return rows


# ---------------------------------------------------------------- start points with a finite reference

SCALE = 300.0  # x ~ Cauchy(0, 300): P(x > log(max float)) ~ 13%, like the Cauchy priors of stochastic volatility


def _overflow_lp(x, y):
    with np.errstate(over="ignore", invalid="ignore"):
        return float(-np.log(np.pi * SCALE) - np.log1p((x / SCALE) ** 2) - y * np.exp(x))  # -inf past x ~ 709.8


def _overflow_spec():
    return ModelSpec(
        name="fake_overflow", description="Cauchy prior, a likelihood exp(x) overflows", params=(Param("x"),),
        make_data=lambda rng: {"y": 0.5},
        sample_prior=lambda rng, data: {"x": SCALE * rng.standard_cauchy()},
        log_prior=lambda p, data: _overflow_lp(float(p["x"]), 0.0),
        log_likelihood=lambda p, data: _overflow_lp(float(p["x"]), data["y"]) - _overflow_lp(float(p["x"]), 0.0),
    )


def _overflow_backend(name):
    """Exact where finite; raises where the likelihood overflows (NumPyro: "invalid scale parameter")."""

    def log_density(spec, data, points):
        out = []
        for p in points:
            value = _overflow_lp(float(p["x"]), data["y"])
            if not np.isfinite(value):
                raise ValueError("invalid scale parameter")
            out.append(value)
        return np.array(out)

    class Potential:
        own_transform = True

        def to_unconstrained(self, point):
            return np.array([float(point["x"])])

        def value_and_grad(self, u):
            x = float(u[0])
            grad = -2.0 * x / (SCALE ** 2 + x ** 2) - 0.5 * np.exp(x)
            return -_overflow_lp(x, 0.5), np.array([-grad])

    return _module(name, "numpyro", log_density, lambda spec, data: Potential())


def _reference(spec, data):
    return lambda ps: np.array([spec.log_density(p, data) for p in ps])


def _seed_with_overflow(spec, data, n=5):
    """A seed whose first ``n`` prior draws include one where the reference is not finite."""
    for seed in range(200):
        points, _, _ = pts.start_points(spec, data, n, seed)
        if not np.all(np.isfinite(_reference(spec, data)(points))):
            return seed
    raise AssertionError("no seed with an overflowing prior draw")


def test_prior_draws_with_a_non_finite_reference_are_skipped():
    spec = _overflow_spec()
    data = spec.data()
    reference = _reference(spec, data)
    seed = _seed_with_overflow(spec, data)
    raw, _, _ = pts.start_points(spec, data, 40, seed)  # the same stream, unfiltered
    points, source, warning = pts.start_points(spec, data, 5, seed, log_density=reference)
    assert len(points) == 5 and np.all(np.isfinite(reference(points)))
    finite_raw = [p for p in raw if np.isfinite(reference([p])[0])]
    assert [float(p["x"]) for p in points] == [float(p["x"]) for p in finite_raw[:5]]  # the next draws, in order
    skipped = next(i for i, p in enumerate(raw) if float(p["x"]) == float(points[-1]["x"])) + 1 - 5
    assert skipped >= 1 and source == f"prior draws ({skipped} skipped: reference log density not finite)"
    assert warning == ""


def test_finite_first_draws_are_the_start_points_unchanged():
    spec = _overflow_spec()
    data = spec.data()
    reference = _reference(spec, data)
    seed = next(s for s in range(200) if np.all(np.isfinite(reference(pts.start_points(spec, data, 5, s)[0]))))
    plain = pts.start_points(spec, data, 5, seed)
    filtered = pts.start_points(spec, data, 5, seed, log_density=reference)
    assert [float(p["x"]) for p in filtered[0]] == [float(p["x"]) for p in plain[0]]
    assert filtered[1:] == ("prior draws", "")


def test_a_reference_that_cannot_be_evaluated_leaves_the_draws_as_they_are():
    spec = _overflow_spec()
    data = spec.data()
    plain = pts.start_points(spec, data, 5, 3)
    for broken in (lambda ps: "RuntimeError: the anchor backend failed", lambda ps: None):
        points, source, warning = pts.start_points(spec, data, 5, 3, log_density=broken)
        assert [float(p["x"]) for p in points] == [float(p["x"]) for p in plain[0]]
        assert (source, warning) == ("prior draws", "")


def test_without_enough_finite_draws_the_start_points_say_so():
    spec = _overflow_spec()
    data = spec.data()
    points, source, warning = pts.start_points(spec, data, 5, 0, log_density=lambda ps: np.full(len(ps), -np.inf))
    assert len(points) == 5
    assert warning == (f"start points: only 0 of {pts.MAX_DRAWS * 5} prior draws have a finite reference log density; "
                       "5 of the 5 start points are draws where it is not")
    assert warning in source


def test_random_start_points_skip_a_non_finite_reference_too():
    spec = ModelSpec(name="fake_random", description="no prior sampler", params=(Param("x"),),
                     make_data=lambda rng: {}, log_prior=lambda p, data: 0.0, log_likelihood=lambda p, data: 0.0)
    data = spec.data()
    raw = pts.random_points(spec, data, 30, 4)
    positive = lambda ps: np.array([0.0 if float(p["x"]) > 0 else -np.inf for p in ps])  # noqa: E731
    points, source, _ = pts.start_points(spec, data, 5, 4, log_density=positive)
    assert [float(p["x"]) for p in points] == [float(p["x"]) for p in raw if float(p["x"]) > 0][:5]
    assert source.startswith("random points, u ~ Uniform(-2, 2) on the canonical scale (")


def test_the_checks_start_where_the_reference_is_finite(fake_backends):
    """End to end: a seed whose first prior draws overflow the likelihood; the backend refuses those
    points with an error (as NumPyro does) and agrees with the reference everywhere else."""
    spec = _overflow_spec()
    seed = _seed_with_overflow(spec, spec.data())
    names = fake_backends(spec, {"numpyro": _overflow_backend("numpyro"), "pymc": _overflow_backend("pymc")})
    long = check_long([spec.name], names, n_points=5, seed=seed, checks_wanted=("density", "potential"))
    assert (long["status"] == "pass").all(), long[long["status"] != "pass"].to_string()
    assert long[long["check"] == "density"]["points"].str.contains("skipped: reference log density not finite").all()


def test_checks_without_a_finite_start_point_fail_and_say_why(fake_backends):
    spec = dataclasses.replace(_overflow_spec(), sample_prior=lambda rng, data: {"x": 1e3 + rng.uniform()})
    names = fake_backends(spec, {"numpyro": _overflow_backend("numpyro")})
    table = summarise(check_long([spec.name], names, n_points=5, seed=0, checks_wanted=("density",)))
    row = table[(table["a"] == REFERENCE) & (table["b"] == "numpyro")].iloc[0]
    assert row["status"] == "error" and "start points: only 0 of 100 prior draws" in row["error"]


# ---------------------------------------------------------------- the reference where the backend evaluates

POWER = 50.0  # log p(phi) = -(1 - phi^2)^-50: at phi = 0.9998 a move of one ulp changes it by 5e-11 of its value


def _steep_lp(phi, power=POWER):
    return float(-(1.0 - phi * phi) ** -power)


def _steep_spec():
    return ModelSpec(
        name="fake_steep", description="a density steep near the bounds of phi", params=(Param("phi", support="interval(-1, 1)"),),
        make_data=lambda rng: {},
        sample_prior=lambda rng, data: {"phi": rng.uniform(0.9997, 0.9999)},
        log_prior=lambda p, data: _steep_lp(float(p["phi"])), log_likelihood=lambda p, data: 0.0,
    )


def _round_trip(spec, data, points):
    """The canonical unconstrain-then-constrain (what Stan does to every point it is given)."""
    return [constrain(spec, data, unconstrain(spec, data, p))[0] for p in points]


def _stan_like(name, hook=True, power=POWER):
    """Evaluates at the round trip of each point, like Stan; refuses points outside (-1, 1)."""

    def log_density(spec, data, points):
        return np.array([_steep_lp(float(_round_trip(spec, data, [p])[0]["phi"]), power)
                         if pts.inside(spec, data, p) else -np.inf for p in points])

    class Potential:
        own_transform = True

        def __init__(self, spec, data):
            self.spec, self.data = spec, data

        def to_unconstrained(self, point):
            return unconstrain(self.spec, self.data, point)

        def value_and_grad(self, u):
            point, logdet = constrain(self.spec, self.data, u)
            phi = float(point["phi"])
            s = (phi + 1.0) / 2.0
            dlp = -power * 2.0 * phi * (1.0 - phi * phi) ** (-power - 1.0)
            return -_steep_lp(phi, power) - logdet, np.array([-dlp * 2.0 * s * (1.0 - s) - (1.0 - 2.0 * s)])

    return _module(name, "stan", log_density, Potential, _round_trip if hook else None)


def _exact(name):
    """Evaluates ``log_density`` at the point it is given (PyMC, NumPyro, Pyro); no potential hook (a
    library's potential evaluates at its own round trip, which it does not report)."""

    def log_density(spec, data, points):
        return np.array([_steep_lp(float(p["phi"])) if pts.inside(spec, data, p) else -np.inf for p in points])

    return _module(name, "numpyro", log_density, None)


def test_the_round_trip_moves_the_probes_of_this_model():
    """The premise: the canonical round trip moves a support probe by an ulp, and the density's relative
    change there exceeds the relative tolerance."""
    spec = _steep_spec()
    data = spec.data()
    base = pts.start_points(spec, data, 5, 11)[0][0]
    _, inside = pts.support_probes(spec, data, base)
    probe = dict(inside)["phi=0.9998"]
    moved = _round_trip(spec, data, [probe])[0]
    assert 0 < abs(float(moved["phi"]) - float(probe["phi"])) <= 2 * np.finfo(float).eps
    change = abs(_steep_lp(float(moved["phi"])) / _steep_lp(float(probe["phi"])) - 1.0)
    assert change > 2 * eq_checks.RTOL


@pytest.mark.parametrize("hook", [True, False])
def test_a_backend_that_round_trips_is_compared_where_it_evaluates(hook, fake_backends):
    spec = _steep_spec()
    names = fake_backends(spec, {"numpyro": _exact("numpyro"), "stan": _stan_like("stan", hook=hook)})
    long = check_long([spec.name], names, n_points=5, seed=11, checks_wanted=("density", "support", "potential"))
    for check in ("density", "support"):
        assert (_rows(long, check, "numpyro")["status"] == "pass").all()  # evaluates at the point: unchanged
    stan = {check: set(_rows(long, check, "stan")["status"]) for check in ("density", "support", "potential")}
    if hook:
        assert stan == {"density": {"pass"}, "support": {"pass"}, "potential": {"pass"}}, long.to_string()
    else:  # the reference at the point given differs by more than a rounding error of the value
        assert stan["support"] == {"fail"} and stan["density"] == {"fail"}, long.to_string()


def test_a_wrong_density_still_fails_where_the_backend_evaluates(fake_backends):
    spec = _steep_spec()
    names = fake_backends(spec, {"stan": _stan_like("stan", power=POWER * 1.001)})
    long = check_long([spec.name], names, n_points=5, seed=11, checks_wanted=("density", "support", "potential"))
    for check in ("density", "support", "potential"):
        assert set(_rows(long, check, "stan")["status"]) == {"fail"}, check
