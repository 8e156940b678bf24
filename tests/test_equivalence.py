"""The same model everywhere: log-density differences agree across every pair of backends.

For every catalogue model, at 5 points drawn from the prior, the joint log density (constrained,
no Jacobian) of each backend and of the scipy reference; ``lp[i] - lp[0]`` must agree for every pair.
"""

import numpy as np
import pytest

from harness.backends import CORE_BACKENDS, availability
from harness.catalogue import model_names
from harness.equivalence import REFERENCE, backend_verdicts, compare, log_densities

AVAILABLE = [b for b in CORE_BACKENDS if availability()[b] is None]
_cache: dict = {}


def densities(model):
    if model not in _cache:
        _cache[model] = log_densities(model, AVAILABLE, n_points=5, seed=11)
    return _cache[model]


PAIRS = [(m, a, b) for m in model_names() for i, a in enumerate([REFERENCE, *CORE_BACKENDS])
         for b in CORE_BACKENDS[max(0, i):] if a != b]


@pytest.mark.parametrize("model,a,b", PAIRS, ids=[f"{m}-{a}-{b}" for m, a, b in PAIRS])
def test_log_density_differences_agree(model, a, b):
    for name in (a, b):
        if name != REFERENCE and name not in AVAILABLE:
            pytest.skip(f"{name} unavailable: {availability()[name]}")
    values = densities(model)
    table = compare({a: values[a], b: values[b]})
    row = table.iloc[0]
    assert row["status"] == "pass", f"{model}: {a} vs {b}: max |diff| {row['max_abs_diff']:.3g}; {row['error']}"


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
