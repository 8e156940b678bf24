"""The same model everywhere: every registered backend agrees with the reference, six ways.

For every catalogue model x registered backend (parametrised over the registry, so a new backend is
tested with no edit here), at the default size and one other size (``harness.equivalence``):

* density: the constrained joint log density at 5 prior draws, ``lp[i] - lp[0]`` against the scipy
  reference in ``model.py``;
* support: points just outside each bounded parameter's support are refused, points just inside agree;
* transform, potential, fd_gradient: the sampler's potential (unconstrained, with Jacobian) through
  the backend's ``potential`` hook, at shared unconstrained points one coordinate step apart, against
  the reference potential and finite differences of it; backends without the hook are skipped;
* gradient: the potentials' gradients agree pairwise, coordinate by coordinate (per model).

Agreement with the reference makes every pair agree, so the density pairs are not tested one by one.
"""

import numpy as np
import pytest

from harness.backends import availability, default_backends, load_module
from harness.catalogue import model_names
from harness.equivalence import REFERENCE, backend_verdicts, check_long, compare, summarise

BACKENDS = default_backends()
AVAILABLE = [b for b in BACKENDS if availability()[b] is None]
_cache: dict = {}


def table(model):
    if model not in _cache:
        _cache[model] = check_long([model], AVAILABLE, n_points=5, seed=11)
    return _cache[model]


def reference_rows(model, backend, checks):
    long = table(model)
    rows = long[(long["a"] == REFERENCE) & (long["b"] == backend) & long["check"].isin(checks)]
    assert not rows.empty, f"{model}: no {checks} rows for {backend}"
    return rows


def assert_pass(rows, what):
    bad = rows[rows["status"] != "pass"]
    assert bad.empty, "\n".join(
        f"{what}: {r.check} at {r.size}: max |diff| {r.max_abs_diff:.3g} > {r.tolerance:.3g}; {r.error}"
        for r in bad.itertuples())


CASES = [(m, b) for m in model_names() for b in BACKENDS]
IDS = [f"{m}-{b}" for m, b in CASES]


def _available(backend):
    if backend not in AVAILABLE:
        pytest.skip(f"{backend} unavailable: {availability()[backend]}")


@pytest.mark.parametrize("model,backend", CASES, ids=IDS)
def test_log_density_differences_agree_with_the_reference(model, backend):
    _available(backend)
    assert_pass(reference_rows(model, backend, ["density"]), f"{model}: {backend}")


@pytest.mark.parametrize("model,backend", CASES, ids=IDS)
def test_points_outside_the_support_are_refused(model, backend):
    _available(backend)
    long = table(model)
    if not (long["check"] == "support").any():
        pytest.skip(f"{model} has no bounded parameter")
    assert_pass(reference_rows(model, backend, ["support"]), f"{model}: {backend}")


@pytest.mark.parametrize("model,backend", CASES, ids=IDS)
def test_the_sampled_potential_agrees_with_the_reference(model, backend):
    _available(backend)
    if getattr(load_module(backend), "potential", None) is None:
        pytest.skip(f"{backend} has no potential hook (harness.equivalence): density and support only")
    assert_pass(reference_rows(model, backend, ["transform", "potential", "fd_gradient"]), f"{model}: {backend}")


@pytest.mark.parametrize("model", model_names())
def test_potential_gradients_agree_pairwise(model):
    long = table(model)
    rows = long[long["check"].isin(["gradient", "potential"]) & (long["a"] != REFERENCE)]
    if rows.empty:
        pytest.skip("fewer than two available backends with a potential hook")
    assert_pass(rows, model)


def test_the_summary_has_one_row_per_model_and_pair():
    long = table("normal_mean")
    summary = summarise(long)
    assert not summary.duplicated(["model", "a", "b"]).any()
    assert list(summary.columns) == ["model", "a", "b", "status", "check", "max_abs_diff", "tolerance", "error"]
    assert set(long["size"]) == {"K=1000", "K=250"}  # the default size and one other


def test_a_wrong_density_is_caught():
    good = np.array([-10.0, -12.5, -11.0])
    wrong = good + np.array([0.0, 0.3, 0.0])  # a density that differs by more than a constant
    table_ = compare({REFERENCE: good, "y": good + 4.2, "z": wrong})
    status = dict(zip(zip(table_["a"], table_["b"]), table_["status"]))
    assert status[(REFERENCE, "y")] == "pass"  # constants cancel
    assert status[(REFERENCE, "z")] == "fail" and status[("y", "z")] == "fail"
    verdicts = dict(zip(*backend_verdicts(table_.assign(model="m"))[["backend", "equivalence"]].T.values))
    assert verdicts == {"y": "pass", "z": "fail"}  # y is not blamed for z


def test_a_backend_error_is_reported_not_raised():
    table_ = compare({"x": np.zeros(3), "broken": "RuntimeError: boom"})
    assert table_.iloc[0]["status"] == "error" and "boom" in table_.iloc[0]["error"]
