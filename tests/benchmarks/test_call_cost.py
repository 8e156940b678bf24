"""Cost of one call from Python to every catalogue model x backend's log density and gradient, at one point.

This is *not* the cost of a gradient inside the sampler: a call from Python pays the backend's
dispatch (JAX's, torch's, PyTensor's) and, for PyStan, an HTTP round trip to httpstan, which Stan's
own sampler never does. The in-sampler cost per gradient is ``sampling_per_grad`` of the bench cells
(sampling seconds over gradient evaluations; ``harness report`` shows it per backend and model).

What is timed is the zero-argument closure of ``backend.gradient_fn(spec, data, point)`` (the density
the sampler evaluates, on its unconstrained scale), with ``point`` one draw from the model's numpy
prior sampler (seed 0) and the model's benchmark data set. Building the closure (compile, JIT
tracing, the first call) and five more calls happen before timing starts.

``benchmark.extra_info`` records the backend's versions and the transport its module declares
(``CAPABILITIES.gradient_transport``, default "in-process"): a backend whose every gradient is an HTTP round trip
(PyStan to httpstan: "http") measures the cost of a request, not of its math.
"""

import numpy as np
import pytest

from harness.backends import default_backends, get_backend, unavailable_reason
from harness.backends.base import SupportsGradient
from harness.catalogue import get_model, model_names
from tests.helpers import finite_numbers

BACKENDS = default_backends()
WARM_CALLS = 5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", model_names())
def test_call_cost_from_python(benchmark, model, backend):
    reason = unavailable_reason(backend)
    if reason:
        pytest.skip(reason)
    module = get_backend(backend)
    if not isinstance(module, SupportsGradient):
        pytest.skip(f"{backend} has no gradient_fn")
    spec = get_model(model)
    data = spec.data()
    point = spec.sample_prior(np.random.default_rng(0), data)
    try:
        evaluate = module.gradient_fn(spec, data, point)
    except NotImplementedError as err:  # e.g. Stan through cmdstanpy has no per-call gradient
        pytest.skip(str(err))
    for _ in range(WARM_CALLS):  # JITs that keep optimising over the first calls (torch's profiling executor)
        evaluate()
    benchmark.group = f"one call from Python: {model}"
    benchmark.extra_info.update({
        "model": model,
        "backend": backend,
        "versions": module.versions(),
        "transport": module.CAPABILITIES.gradient_transport,
        "data_size": int(sum(np.size(data[k]) for k in spec.observed)),
        "n_params": int(sum(int(np.prod(p.resolve_shape(data))) for p in spec.params)),
        "threads": 1,
    })
    result = benchmark(evaluate)
    assert finite_numbers(result), f"{backend} {model}: the log density or gradient is not finite: {result!r}"
