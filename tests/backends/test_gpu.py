"""GPU runs, selected by ``device="gpu"``; skipped cleanly on machines without a GPU."""

import numpy as np
import pytest

from harness.backends import availability, default_backends, load_module
from harness.catalogue import get_model
from harness.settings import SamplerSettings

GPU_BACKENDS = [n for n in default_backends() if "gpu" in load_module(n).CAPABILITIES.devices]


@pytest.mark.gpu
@pytest.mark.parametrize("name", GPU_BACKENDS)
def test_fit_on_gpu(name):
    if availability()[name]:
        pytest.skip(f"{name} unavailable: {availability()[name]}")
    backend = load_module(name)
    ok, why = backend.gpu_available()
    if not ok:
        pytest.skip(f"no GPU for {name}: {why}")
    spec = get_model("logistic_regression")
    data = spec.data(N=2000)
    settings = SamplerSettings(chains=2, warmup=100, draws=100, device="gpu")
    compiled = backend.compile(spec, data, settings)
    fit = backend.sample(compiled, data, settings, 1)
    assert fit.draws["beta"].shape == (2, 100, 10)
    assert np.all(np.isfinite(fit.draws["beta"]))
    assert compiled.info.get("platform", compiled.info.get("device")) in ("gpu", "cuda")
