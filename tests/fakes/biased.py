"""A test backend whose ``normal_mean`` posterior is shifted by one posterior sd (a biased sampler).

SBC must flag it and a confirmation on fresh data sets must confirm the failure.
"""

import time

import numpy as np

from harness.backends.base import Capabilities, Compiled, Fit
from tests.fakes.exact import log_density, posterior, versions  # noqa: F401

CAPABILITIES = Capabilities(name="fake_biased", family="fake", requires=(), packages=(), extra="test", default=False)
SHIFT_SD = 1.0


def compile(spec, data, settings):
    if spec.name != "normal_mean":
        raise NotImplementedError("fake_biased knows only normal_mean")
    return Compiled(handle=None, compile_s=0.001, cache_hit=None, info={})


def sample(compiled, data, settings, seed):
    rng = np.random.default_rng(seed)
    mean, sd = posterior(data)
    start = time.perf_counter()
    mu = rng.normal(mean + SHIFT_SD * sd, sd, size=(settings.chains, settings.draws))
    return Fit(draws={"mu": mu}, diverging=np.zeros((settings.chains, settings.draws), dtype=bool),
               n_steps=np.ones((settings.chains, settings.draws), dtype=np.int64), warmup_s=0.0,
               sampling_s=max(time.perf_counter() - start, 1e-6))
