"""The same model everywhere: every registered backend agrees with the reference, six ways.

For every catalogue model x registered backend whose family the model brings (parametrised over the
registry, so a new backend is tested with no edit here), at the default size and one other size
(``harness.equivalence``; the reference is the model's numpy density, or its Stan program where it
has none):

* density: the constrained joint log density at 5 start points, ``lp[i] - lp[0]`` against the reference;
* support: points just outside each bounded parameter's support are refused, points just inside agree;
* transform, potential, fd_gradient: the sampler's potential (unconstrained, with Jacobian) through
  the backend's ``potential`` hook, at shared constrained points one canonical coordinate step apart,
  against the reference, and its gradient against finite differences of its own values;
* gradient: the potentials' gradients agree pairwise, coordinate by coordinate (per model).

Agreement with the reference makes every pair agree, so the density pairs are not tested one by one.
"""

import numpy as np
import pytest

from harness.backends import availability, capabilities, default_backends, load_module, optional_hook
from harness.catalogue import families_present, model_names
from harness.compare.quick import QUICK_SUITE
from harness.equivalence import REFERENCE, backend_verdicts, check_long, compare, summarise
from tests.helpers import program_marks

BACKENDS = default_backends()
AVAILABLE = [b for b in BACKENDS if availability()[b] is None]
_cache: dict = {}


# backends that build a native program per model are checked on their own (tests/helpers.py:
# program_marks), so that a test of the others never waits for a build
IN_PROCESS = [b for b in AVAILABLE if not capabilities(b).builds_program]


def table(model, backends):
    key = (model, tuple(backends))
    if key not in _cache:
        _cache[key] = check_long([model], list(backends), n_points=5, seed=11)
    return _cache[key]


def group_of(backend):
    """The backends checked together with ``backend``: itself alone when it builds a program."""
    return [backend] if capabilities(backend).builds_program else IN_PROCESS


def reference_rows(model, backend, checks):
    long = table(model, group_of(backend))
    rows = long[(long["a"] == REFERENCE) & (long["b"] == backend) & long["check"].isin(checks)]
    assert not rows.empty, f"{model}: no {checks} rows for {backend}"
    return rows


def assert_pass(rows, what):
    bad = rows[rows["status"] != "pass"]
    assert bad.empty, "\n".join(
        f"{what}: {r.check} at {r.size}: max |diff| {r.max_abs_diff:.3g} > {r.tolerance:.3g}; {r.error}"
        for r in bad.itertuples())


CASES = [pytest.param(m, b, marks=program_marks(m, b), id=f"{m}-{b}")
         for m in model_names() for b in BACKENDS if capabilities(b).family in families_present(m)]
MODELS = sorted({p.values[0] for p in CASES})


def _available(backend):
    if backend not in AVAILABLE:
        pytest.skip(f"{backend} unavailable: {availability()[backend]}")


@pytest.mark.parametrize("model,backend", CASES)
def test_log_density_differences_agree_with_the_reference(model, backend):
    _available(backend)
    assert_pass(reference_rows(model, backend, ["density"]), f"{model}: {backend}")


@pytest.mark.parametrize("model,backend", CASES)
def test_points_outside_the_support_are_refused(model, backend):
    _available(backend)
    long = table(model, group_of(backend))
    if not (long["check"] == "support").any():
        pytest.skip(f"{model} has no bounded parameter")
    assert_pass(reference_rows(model, backend, ["support"]), f"{model}: {backend}")


@pytest.mark.parametrize("model,backend", CASES)
def test_the_sampled_potential_agrees_with_the_reference(model, backend):
    _available(backend)
    if optional_hook(load_module(backend), "potential") is None:
        pytest.skip(f"{backend} has no potential hook (harness.equivalence): density and support only")
    assert_pass(reference_rows(model, backend, ["transform", "potential", "fd_gradient"]), f"{model}: {backend}")


@pytest.mark.parametrize("model", model_names())
def test_potential_gradients_agree_pairwise(model):
    """Pairwise over the in-process backends; over every backend on the quick suite's models (the
    builds every test run makes)."""
    long = table(model, AVAILABLE if model in QUICK_SUITE["models"] else IN_PROCESS)
    rows = long[long["check"].isin(["gradient", "potential"]) & (long["a"] != REFERENCE)]
    if rows.empty:
        pytest.skip("fewer than two available backends with a potential hook")
    assert_pass(rows, model)


def test_the_summary_has_one_row_per_model_and_pair():
    long = table("normal_mean", AVAILABLE)
    summary = summarise(long)
    assert not summary.duplicated(["model", "a", "b"]).any()
    assert list(summary.columns) == ["model", "a", "b", "status", "check", "max_abs_diff", "tolerance", "error", "reference"]
    numeric = long[long["check"] != "declaration"]  # the declaration check has one row per family
    assert set(numeric["size"]) == {"K=1000", "K=250"}  # the default size and one other


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


def test_an_unavailable_backend_is_skipped_with_its_reason_and_the_others_are_checked():
    """A backend that cannot run here (CmdStan missing, say) gets one "skipped" row; every other
    backend of the model is checked as usual, and no error escapes."""
    long = check_long(["normal_mean"], ["fake_missing", "numpyro"], n_points=3, seed=1,
                      checks_wanted=("density",)) if "numpyro" in AVAILABLE else None
    if long is None:
        pytest.skip("needs numpyro")
    skipped = long[long["b"] == "fake_missing"]
    assert list(skipped["status"].unique()) == ["skipped"]
    assert skipped.iloc[0]["error"].startswith("skipped: unavailable (not installed: a_library_that_is_not_installed")
    checked = long[(long["b"] == "numpyro") & (long["check"] == "density")]
    assert not checked.empty and (checked["status"] == "pass").all()
    verdicts = dict(zip(*backend_verdicts(summarise(long))[["backend", "equivalence"]].T.values))
    assert verdicts == {"fake_missing": "skipped", "numpyro": "pass"}


def test_a_family_the_model_does_not_bring_is_not_implemented():
    long = check_long(["garch11"], ["pyro"], n_points=2, seed=1)
    assert list(long["status"].unique()) == ["not implemented"]
    assert "not implemented: Pyro's NUTS fixes" in long.iloc[0]["error"]
