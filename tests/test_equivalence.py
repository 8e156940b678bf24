"""The same model everywhere: every registered backend's log density agrees with the reference.

For every catalogue model x registered backend (parametrised over the registry, so a new backend is
tested with no edit here), at 5 points drawn from the prior, the joint log density (constrained, no
Jacobian) of the backend and of the scipy reference in ``model.py``: ``lp[i] - lp[0]`` must agree.
Agreement with the reference makes every pair agree, so pairs are not tested one by one.
"""

import numpy as np
import pytest

from harness.backends import availability, default_backends
from harness.catalogue import model_names
from harness.equivalence import REFERENCE, backend_verdicts, compare, log_densities

BACKENDS = default_backends()
AVAILABLE = [b for b in BACKENDS if availability()[b] is None]
_cache: dict = {}


def densities(model):
    if model not in _cache:
        _cache[model] = log_densities(model, AVAILABLE, n_points=5, seed=11)
    return _cache[model]


CASES = [(m, b) for m in model_names() for b in BACKENDS]


@pytest.mark.parametrize("model,backend", CASES, ids=[f"{m}-{b}" for m, b in CASES])
def test_log_density_differences_agree_with_the_reference(model, backend):
    if backend not in AVAILABLE:
        pytest.skip(f"{backend} unavailable: {availability()[backend]}")
    values = densities(model)
    table = compare({REFERENCE: values[REFERENCE], backend: values[backend]})
    row = table.iloc[0]
    assert row["status"] == "pass", f"{model}: {backend}: max |diff| {row['max_abs_diff']:.3g}; {row['error']}"


def test_a_wrong_density_is_caught():
    good = np.array([-10.0, -12.5, -11.0])
    wrong = good + np.array([0.0, 0.3, 0.0])  # a density that differs by more than a constant
    table = compare({REFERENCE: good, "y": good + 4.2, "z": wrong})
    status = dict(zip(zip(table["a"], table["b"]), table["status"]))
    assert status[(REFERENCE, "y")] == "pass"  # constants cancel
    assert status[(REFERENCE, "z")] == "fail" and status[("y", "z")] == "fail"
    verdicts = dict(zip(*backend_verdicts(table.assign(model="m"))[["backend", "equivalence"]].T.values))
    assert verdicts == {"y": "pass", "z": "fail"}  # y is not blamed for z


def test_a_backend_error_is_reported_not_raised():
    table = compare({"x": np.zeros(3), "broken": "RuntimeError: boom"})
    assert table.iloc[0]["status"] == "error" and "boom" in table.iloc[0]["error"]
