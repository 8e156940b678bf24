"""Every catalogue entry honours the model contract (models/README.md)."""

import numpy as np
import pytest

from harness import supports
from harness.catalogue import (
    UnknownModelError,
    families_present,
    get_model,
    implementation,
    model_folders,
    model_names,
    stan_file,
)
from harness.spec import FAMILY_FILES, SIZE_CLASSES, TAGS, size_class_of

MODELS = model_names()
WITH_PRIOR = [m for m in MODELS if get_model(m).sample_prior is not None]
WITH_SIMULATOR = [m for m in MODELS if get_model(m).sbc_not_applicable() is None]

SEED_MODELS = {
    "normal_mean", "two_groups_pooled", "two_groups_unpooled", "two_groups_hierarchical",
    "eight_schools_centered", "eight_schools_noncentered", "eight_schools_uniform",
    "errors_in_variables", "logistic_regression",
}


def test_catalogue_holds_the_seed_models():
    assert SEED_MODELS <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_folder_has_declaration_and_every_family_or_a_reason(name):
    """The catalogue's models come in all four families; a family left out says why (not_implemented)."""
    spec = get_model(name)
    present = families_present(name)
    for family, filename in FAMILY_FILES.items():
        if family in present:
            assert family not in spec.not_implemented, f"{name} brings {filename} but declares it not implemented"
        else:
            assert spec.not_implemented.get(family, "").strip(), f"{name} lacks {filename} and gives no reason"
    assert spec.name == name
    for family in present:
        if family == "pymc":
            assert callable(implementation(name, "pymc").build)
        elif family in ("numpyro", "pyro"):
            assert callable(implementation(name, family).model)
    if "stan" in present:
        assert "parameters" in stan_file(name).read_text()


@pytest.mark.parametrize("name", MODELS)
def test_declaration_is_searchable_and_sized(name):
    """Tags from the fixed vocabulary; the size class follows SIZE_RULE on the default data set."""
    spec = get_model(name)
    data = spec.data()
    assert spec.tags and set(spec.tags) <= set(TAGS), spec.tags
    assert spec.size_class in SIZE_CLASSES
    assert spec.size_class == size_class_of(spec.n_unconstrained(data), spec.n_observed(data)), (
        spec.n_unconstrained(data), spec.n_observed(data))
    if model_folders()[name].parent.name == "models" and (model_folders()[name] / "data.json.zip").exists():
        readme = (model_folders()[name] / "README.md").read_text().lower()
        assert "licen" in readme and "source" in readme, f"{name}: its README must name its data's source and licence"


@pytest.mark.parametrize("name", MODELS)
def test_data_fit_the_declared_shapes(name):
    spec = get_model(name)
    data = spec.data()
    for p in spec.params:
        shape = p.resolve_shape(data)
        assert all(isinstance(n, int) and n >= 1 for n in shape), (p.name, shape)
    for key in spec.observed:
        assert key in data, f"{name}: observed entry {key!r} is not in the data"
        assert np.all(np.isfinite(np.asarray(data[key], dtype=float))), key


@pytest.mark.parametrize("name", WITH_PRIOR)
def test_prior_draws_have_declared_shapes(name):
    spec = get_model(name)
    data = spec.data()
    draw = spec.sample_prior(np.random.default_rng(1), data)
    assert set(draw) == {p.name for p in spec.params}
    for p in spec.params:
        assert np.shape(draw[p.name]) == p.resolve_shape(data), p.name
        assert np.all(np.isfinite(draw[p.name]))
        assert p.space.inside(np.asarray(draw[p.name], dtype=float), draw, data), f"{p.name} outside {p.space.describe()}"


def test_improper_priors_say_sbc_does_not_apply():
    spec = get_model("garch11")
    assert spec.prior == "improper" and spec.sample_prior is None
    assert spec.sbc_not_applicable() == "not applicable: improper prior"


@pytest.mark.parametrize("name", WITH_SIMULATOR)
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
    if spec.has_density:
        assert np.isfinite(spec.log_density(spec.sample_prior(np.random.default_rng(4), a), sim))


@pytest.mark.parametrize("name", WITH_PRIOR)
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
    assert spec.size_label({"N": 50}) == f"N=50,D={spec.size_defaults['D']}"
    assert spec.parse_size("N=50") == {"N": 50} and get_model("eight_schools_noncentered").size_label() == ""
    with pytest.raises(ValueError, match="no size argument"):
        spec.parse_size("K=3")


@pytest.mark.parametrize("text,kind", [("real", "real"), ("positive", "positive"), ("interval(0, 1)", "interval(0, 1)"),
                                        ("lower(2.5)", "lower(2.5)"), ("upper(mu_upper)", "upper(mu_upper)"),
                                        ("simplex", "simplex"), ("cholesky_corr", "cholesky_corr"),
                                        ("positive_ordered", "positive_ordered")])
def test_support_texts_parse(text, kind):
    assert supports.parse(text).describe() == kind


def test_an_unknown_support_lists_the_valid_ones():
    with pytest.raises(supports.SupportError, match="valid supports: real, positive"):
        supports.parse("postive")


@pytest.mark.parametrize("support,shape", [
    (supports.REAL, (3,)), (supports.POSITIVE, (2, 2)), (supports.Interval(-1.0, 2.0), (4,)),
    (supports.Ordered(), (4,)), (supports.Ordered(positive=True), (3,)), (supports.Simplex(), (5,)),
    (supports.Simplex(), (2, 3)), (supports.CholeskyCorr(), (3, 3)),
])
def test_canonical_transforms_round_trip_with_their_jacobian(support, shape):
    """constrain(unconstrain(x)) = x, and log |det dx/du| equals finite differences of the map."""
    rng = np.random.default_rng(0)
    n = support.unconstrained_size(shape)
    u = rng.uniform(-1.5, 1.5, n)
    x, logdet = support.constrain(u, shape, {}, {})
    assert support.inside(x, {}, {})
    np.testing.assert_allclose(support.unconstrain(x, {}, {}), u, rtol=1e-10, atol=1e-10)
    free = support.free_mask(shape).ravel()
    jac = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1e-6
        up, down = support.constrain(u + e, shape, {}, {})[0], support.constrain(u - e, shape, {}, {})[0]
        jac[:, j] = (up.ravel()[free] - down.ravel()[free]) / 2e-6
    assert logdet == pytest.approx(np.linalg.slogdet(jac)[1], abs=1e-6)


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


BATCHED = [m for m in MODELS if get_model(m).batched_density]


@pytest.mark.parametrize("name", BATCHED)
def test_batched_densities_equal_the_per_point_ones_bit_for_bit(name):
    from harness.sbc.ranks import batched_log_terms, log_terms, point_at

    spec = get_model(name)
    data = spec.data()
    rng = np.random.default_rng(3)
    points = [spec.sample_prior(rng, data) for _ in range(24)]
    draws = {p.name: np.stack([np.asarray(q[p.name], dtype=np.float64) for q in points]).reshape(
        (2, 12, *p.resolve_shape(data))) for p in spec.params}
    looped = np.array([log_terms(spec, data, point_at(spec, draws, c, d)) for c in range(2) for d in range(12)])
    assert np.array_equal(batched_log_terms(spec, data, draws), looped)


def test_a_batched_model_exists():
    assert "eight_schools_noncentered" in BATCHED
