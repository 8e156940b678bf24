"""One conformance suite that every registered backend must pass (parametrised over the registry).

A new backend module added to ``harness.backends.REGISTRY`` is tested here automatically.
"""

import tomllib

import numpy as np
import pytest

from harness.backends import availability, default_backends, load_module
from harness.backends.base import (
    FAMILIES,
    Backend,
    Capabilities,
    Compiled,
    Fit,
    SupportsGpu,
    SupportsGradient,
    SupportsPriorDraws,
)
from harness.catalogue import get_model
from harness.settings import SamplerSettings
from tests.conftest import ROOT
from tests.helpers import finite_numbers

REAL = default_backends()  # every registered backend but the test fakes
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
SETTINGS = SamplerSettings(chains=2, warmup=150, draws=100)
_fits: dict = {}


def backend_or_skip(name):
    why = availability()[name]
    if why:
        pytest.skip(f"{name} unavailable here: {why}")
    return load_module(name)


def fit_of(name, model, seed):
    key = (name, model, seed)
    if key not in _fits:
        backend = backend_or_skip(name)
        spec = get_model(model)
        data = spec.data()
        compiled = backend.compile(spec, data, SETTINGS)
        _fits[key] = (compiled, backend.sample(compiled, data, SETTINGS, seed))
    return _fits[key]


@pytest.mark.parametrize("name", REAL)
def test_module_declares_the_protocol(name):
    module = load_module(name)
    caps = module.CAPABILITIES
    assert isinstance(module, Backend)  # every required function and CAPABILITIES
    assert isinstance(caps, Capabilities) and caps.name == name
    assert caps.family in FAMILIES and set(caps.samples) <= set(FAMILIES)
    assert isinstance(caps.packages, tuple) and caps.packages and isinstance(caps.requires, tuple)
    assert isinstance(caps.sbc_replicates, int) and caps.sbc_replicates > 0
    assert set(caps.devices) <= {"cpu", "gpu"} and "cpu" in caps.devices
    assert caps.extra in EXTRAS, f"{name}: extra {caps.extra!r} is not an extra of pyproject.toml"
    assert f"ppl-harness[{caps.extra}]" in caps.install_hint()
    if "gpu" in caps.devices:
        assert isinstance(module, SupportsGpu)
    if caps.vectorized_chains:
        assert caps.family in ("pymc", "numpyro")


@pytest.mark.parametrize("name", REAL)
def test_fit_has_the_contract_shapes(name):
    compiled, fit = fit_of(name, "eight_schools_noncentered", 7)
    spec, data = get_model("eight_schools_noncentered"), get_model("eight_schools_noncentered").data()
    assert isinstance(compiled, Compiled) and isinstance(fit, Fit)
    assert set(fit.draws) == {p.name for p in spec.params}
    for p in spec.params:
        assert fit.draws[p.name].shape == (SETTINGS.chains, SETTINGS.draws) + p.resolve_shape(data)
        assert np.all(np.isfinite(fit.draws[p.name]))
    assert np.all(fit.draws["tau"] > 0)
    assert fit.diverging.shape == fit.n_steps.shape == (SETTINGS.chains, SETTINGS.draws)
    assert np.all(fit.n_steps >= 1) and np.all(fit.n_steps <= 2 ** SETTINGS.max_treedepth)
    assert fit.warmup_s > 0 and fit.sampling_s > 0 and compiled.compile_s >= 0
    assert "chain_method" in {**compiled.info, **fit.info}
    assert load_module(name).versions()


@pytest.mark.parametrize("name", REAL)
def test_same_seed_same_draws_other_seed_other_draws(name):
    compiled, first = fit_of(name, "eight_schools_noncentered", 7)
    spec = get_model("eight_schools_noncentered")
    backend = load_module(name)
    again = backend.sample(compiled, spec.data(), SETTINGS, 7)
    other = backend.sample(compiled, spec.data(), SETTINGS, 8)
    np.testing.assert_array_equal(first.draws["mu"], again.draws["mu"])
    assert not np.array_equal(first.draws["mu"], other.draws["mu"])
    # chains of one run are not copies of each other
    assert not np.array_equal(first.draws["mu"][0], first.draws["mu"][1])


@pytest.mark.parametrize("name", REAL)
def test_compiled_once_per_data_shape(name):
    """SBC fits many data sets of one shape with one compiled model: sampling it on a new data set must
    give exactly what a compile for that data set gives (same seed, same draws), without recompiling,
    and sampling the first data set again must give the first fit back (no stale data either way)."""
    compiled, first = fit_of(name, "normal_mean", 3)
    backend = load_module(name)
    spec = get_model("normal_mean")
    data = spec.data()
    rng = np.random.default_rng(11)
    new = spec.simulate(rng, spec.sample_prior(rng, data), data)
    swapped = backend.sample(compiled, new, SETTINGS, 5)
    fresh = backend.sample(backend.compile(spec, new, SETTINGS), new, SETTINGS, 5)
    np.testing.assert_array_equal(swapped.draws["mu"], fresh.draws["mu"])
    assert not swapped.info.get("recompiled_for_data", False)
    np.testing.assert_array_equal(backend.sample(compiled, data, SETTINGS, 3).draws["mu"], first.draws["mu"])


@pytest.mark.parametrize("name", REAL)
def test_posterior_mean_of_a_conjugate_model(name):
    """normal_mean has a closed-form posterior; the sampler's mean must be within MCMC error."""
    from harness import diagnostics

    _, fit = fit_of(name, "normal_mean", 3)
    data = get_model("normal_mean").data()
    precision = 1 / 100 + data["x"].size
    exact_mean, exact_sd = data["x"].sum() / precision, precision ** -0.5
    mu = fit.draws["mu"]
    mcse = float(diagnostics.mcse_mean({"mu": mu})["mu"])
    assert abs(mu.mean() - exact_mean) < 5 * mcse  # fails for a correct sampler with p < 1e-6
    assert 0.7 * exact_sd < mu.std() < 1.3 * exact_sd


@pytest.mark.parametrize("name", REAL)
def test_gradient_and_prior_hooks(name):
    backend = backend_or_skip(name)
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    point = spec.sample_prior(np.random.default_rng(0), data)
    if isinstance(backend, SupportsGradient):
        evaluate = backend.gradient_fn(spec, data, point)
        result = evaluate()
        assert finite_numbers(result), f"{name}: the log density or gradient is not finite: {result!r}"
    if isinstance(backend, SupportsPriorDraws):
        draws = backend.prior_draws(spec, data, 50, 1)
        assert draws["theta_trans"].shape == (50, 8)
        assert finite_numbers(draws), f"{name}: prior draws are not all finite"


@pytest.mark.parametrize("name", REAL)
def test_draws_stay_in_a_support_that_depends_on_a_parameter(name):
    """``garch11``'s ``beta1`` lives on (0, 1 - alpha1): every backend must sample it (PyMC 6 refuses
    unconstrained initial values there) and constrain each draw with that draw's own ``alpha1`` (NumPyro's
    samplers used the initial ``alpha1`` when the support hid in an independent constraint)."""
    from harness.catalogue import missing_family_reason

    backend = backend_or_skip(name)
    reason = missing_family_reason("garch11", backend.CAPABILITIES.family)
    if reason:
        pytest.skip(reason)
    spec = get_model("garch11")
    data = spec.data()
    settings = SamplerSettings(chains=2, warmup=100, draws=50)
    fit = backend.sample(backend.compile(spec, data, settings), data, settings, 3)
    alpha1, beta1 = fit.draws["alpha1"], fit.draws["beta1"]
    assert np.all((alpha1 > 0) & (alpha1 < 1))
    assert np.all((beta1 > 0) & (beta1 < 1 - alpha1))
