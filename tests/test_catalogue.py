"""Every catalogue entry honours the model contract (models/README.md)."""

import numpy as np
import pytest

from harness.backends import families
from harness.catalogue import (
    MODELS_DIR,
    UnknownModelError,
    get_model,
    implementation,
    model_names,
    stan_file,
)

MODELS = model_names()

SEED_MODELS = {
    "normal_mean", "two_groups_pooled", "two_groups_unpooled", "two_groups_hierarchical",
    "eight_schools_centered", "eight_schools_noncentered", "eight_schools_uniform",
    "errors_in_variables", "logistic_regression",
}


def test_catalogue_holds_the_seed_models():
    assert SEED_MODELS <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_folder_has_declaration_and_every_family_implementation(name):
    folder = MODELS_DIR / name
    files = families()  # {family: file} the registered backends declare (MODEL_FILE)
    assert {"pymc", "numpyro", "pyro", "stan"} <= set(files)  # the four families of the catalogue
    for family, filename in files.items():
        assert (folder / filename).is_file(), f"{name} lacks its {family} implementation {filename}"
    assert get_model(name).name == name
    assert callable(implementation(name, "pymc").build)
    assert callable(implementation(name, "numpyro").model)
    assert callable(implementation(name, "pyro").model)
    assert "parameters" in stan_file(name).read_text()


@pytest.mark.parametrize("name", MODELS)
def test_prior_draws_have_declared_shapes(name):
    spec = get_model(name)
    data = spec.data()
    draw = spec.sample_prior(np.random.default_rng(1), data)
    assert set(draw) == {p.name for p in spec.params}
    for p in spec.params:
        assert np.shape(draw[p.name]) == p.resolve_shape(data), p.name
        assert np.all(np.isfinite(draw[p.name]))
        if p.support == "positive":
            assert np.all(np.asarray(draw[p.name]) > 0)


@pytest.mark.parametrize("name", MODELS)
def test_data_are_deterministic_and_simulate_keeps_structure(name):
    spec = get_model(name)
    a, b = spec.data(), spec.data()
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    sim = spec.simulate(np.random.default_rng(2), spec.sample_prior(np.random.default_rng(3), a), a)
    assert sim.keys() == a.keys()
    assert set(spec.observed) <= set(a)
    for k in a:
        assert np.shape(sim[k]) == np.shape(a[k]), k
        assert np.asarray(sim[k]).dtype.kind == np.asarray(a[k]).dtype.kind, k
    changed = [k for k in spec.observed if not np.array_equal(sim[k], a[k])]
    assert changed == list(spec.observed)
    assert np.isfinite(spec.log_density(spec.sample_prior(np.random.default_rng(4), a), sim))


@pytest.mark.parametrize("name", MODELS)
def test_derived_quantities_broadcast_over_draws(name):
    spec = get_model(name)
    data = spec.data()
    rng = np.random.default_rng(5)
    draws = [[spec.sample_prior(rng, data) for _ in range(3)] for _ in range(2)]
    stacked = {p.name: np.array([[d[p.name] for d in chain] for chain in draws]) for p in spec.params}
    full = spec.with_derived(stacked, data)
    for p in spec.derived:
        assert full[p.name].shape == (2, 3) + p.resolve_shape(data)
        one = spec.with_derived(draws[1][2], data)[p.name]
        np.testing.assert_allclose(full[p.name][1, 2], one)


def test_size_arguments_are_checked():
    spec = get_model("logistic_regression")
    data = spec.data(N=50, D=3)
    assert data["X"].shape == (50, 3)
    with pytest.raises(ValueError, match="valid: N, D|valid: D, N"):
        spec.data(K=3)


def test_unknown_model_lists_valid_names():
    with pytest.raises(UnknownModelError, match="eight_schools_noncentered"):
        get_model("eight_school")


@pytest.mark.parametrize("values", [
    np.array([-3.0, -0.5, 0.0, 0.7, 12.0]),  # spans every support edge used below
    np.array([1e-300, 2.5, 99.9, 100.0, 100.1]),
])
def test_shared_densities_match_scipy(values):
    """The closed-form densities of models/_common.py equal scipy.stats' on and off their supports."""
    from scipy import stats

    from models import _common

    def scipy_sum(logpdf):
        return float(np.sum(logpdf))

    cases = [
        (_common.normal_lpdf(values, 0.3, 2.0), scipy_sum(stats.norm.logpdf(values, 0.3, 2.0))),
        (_common.normal_lpdf(values, values[::-1], np.full(5, 0.5)), scipy_sum(stats.norm.logpdf(values, values[::-1], 0.5))),
        (_common.half_cauchy_lpdf(np.abs(values), 5.0), scipy_sum(stats.halfcauchy.logpdf(np.abs(values), scale=5.0))),
        (_common.half_cauchy_lpdf(values, 5.0), scipy_sum(stats.halfcauchy.logpdf(values, scale=5.0))),
        (_common.lognormal_lpdf(np.abs(values) + 1e-3, -1.0, 0.5),
         scipy_sum(stats.lognorm.logpdf(np.abs(values) + 1e-3, s=0.5, scale=np.exp(-1.0)))),
        (_common.lognormal_lpdf(values, -1.0, 0.5), scipy_sum(stats.lognorm.logpdf(values, s=0.5, scale=np.exp(-1.0)))),
        (_common.uniform_lpdf(np.clip(values, 0, 100), 0.0, 100.0), scipy_sum(stats.uniform.logpdf(np.clip(values, 0, 100), 0.0, 100.0))),
        (_common.uniform_lpdf(values, 0.0, 100.0), scipy_sum(stats.uniform.logpdf(values, 0.0, 100.0))),
    ]
    for ours, theirs in cases:
        if np.isfinite(theirs):
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
        else:
            assert ours == theirs
    assert np.isnan(_common.normal_lpdf(values, 0.0, -1.0))  # invalid scale, like scipy
