"""A test backend that samples ``normal_mean`` exactly from its conjugate posterior (no MCMC).

It follows the backend protocol, so the runner, metrics and results code can be tested end to end
in seconds with known answers.
"""

import time

import numpy as np

from harness.backends.base import Capabilities, Compiled, Fit

CAPABILITIES = Capabilities(name="fake_exact", family="fake", requires=(), packages=(), extra="test", default=False)


def versions():
    return {"fake_exact": "1.0"}


def posterior(data):
    """Normal(0, 10) prior, unit-variance likelihood: (mean, sd) of mu given x."""
    precision = 1.0 / 100.0 + data["x"].size
    return data["x"].sum() / precision, precision ** -0.5


def compile(spec, data, settings):
    if spec.name != "normal_mean":
        raise NotImplementedError("fake_exact knows only normal_mean")
    return Compiled(handle=None, compile_s=0.001, cache_hit=None, info={"chain_method": "exact"})


def sample(compiled, data, settings, seed):
    rng = np.random.default_rng(seed)
    mean, sd = posterior(data)
    start = time.perf_counter()
    mu = rng.normal(mean, sd, size=(settings.chains, settings.draws))
    return Fit(
        draws={"mu": mu},
        diverging=np.zeros((settings.chains, settings.draws), dtype=bool),
        n_steps=np.ones((settings.chains, settings.draws), dtype=np.int64),
        warmup_s=0.0,
        sampling_s=max(time.perf_counter() - start, 1e-6),
    )


def log_density(spec, data, points):
    return np.array([spec.log_density(p, data) for p in points])
