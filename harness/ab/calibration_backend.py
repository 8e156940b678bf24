"""A test backend with a known, injectable slowdown: ``normal_mean`` sampled exactly, with real CPU
work per "gradient evaluation" and ``PPL_FAKE_SLOWDOWN`` (a fraction, default 0) more time per
gradient on top. It exists to measure the regression gate: an A/B of ``PPL_FAKE_SLOWDOWN=0``
against ``0`` is an A/A run (false alarms), against ``0.3`` a 30 % slower "release" (detection).

Each kept iteration takes 1-7 "leapfrog steps" drawn from the seed (like NUTS trees), so the
gradient count, the draws and their digest are reproducible per seed, and the sampling time grows
with the gradient count the way a real sampler's does. One gradient is a pass over
``PPL_FAKE_WORK`` numbers (default 20,000: some 10-30 microseconds). The slowdown is, with
``PPL_FAKE_SLOWDOWN_MODE=work`` (the default), that fraction more of the same work per gradient, as
a slower implementation would do (it shows in CPU time and wall time); with ``sleep``, a sleep of
that fraction of the measured work every 200 gradients (waiting: it shows in wall time only).
Registered (by ``harness.ab.calibrate`` and the tests) with ``PPL_HARNESS_EXTRA_BACKENDS=fake_slow=harness.ab.calibration_backend``; it is not a default backend.
"""

import os
import time

import numpy as np

from harness.backends.base import Capabilities, Compiled, Fit

CAPABILITIES = Capabilities(name="fake_slow", family="fake", requires=(), packages=(), extra="test", default=False)


def versions():
    return {"fake_slow": "1.0"}


def slowdown() -> float:
    return float(os.environ.get("PPL_FAKE_SLOWDOWN", "0") or 0)


def posterior(data):
    precision = 1.0 / 100.0 + data["x"].size
    return data["x"].sum() / precision, precision ** -0.5


def compile(spec, data, settings):
    if spec.name != "normal_mean":
        raise NotImplementedError("fake_slow knows only normal_mean")
    work = np.resize(np.asarray(data["x"], dtype=float), int(os.environ.get("PPL_FAKE_WORK", "20000")))
    return Compiled(handle=work, compile_s=0.001, cache_hit=None, info={"chain_method": "sequential"})


def _gradients(work: np.ndarray, count: int, extra: float) -> None:
    """``count`` gradient evaluations of the normal log likelihood, each ``extra`` slower."""
    sleep = os.environ.get("PPL_FAKE_SLOWDOWN_MODE", "work") == "sleep"
    slow = work if sleep or extra <= 0 else np.resize(work, int(round(work.size * (1.0 + extra))))
    done = 0
    while done < count:
        chunk = min(200, count - done)
        start = time.perf_counter()
        for _ in range(chunk):
            float(np.sum(slow - 1.0))
        if sleep and extra > 0:
            time.sleep(extra * (time.perf_counter() - start))
        done += chunk


def sample(compiled, data, settings, seed):
    rng = np.random.default_rng(seed)
    extra = slowdown()
    mean, sd = posterior(data)
    warm_steps = rng.integers(1, 8, size=(settings.chains, settings.warmup))
    steps = rng.integers(1, 8, size=(settings.chains, settings.draws))
    mu = rng.normal(mean, sd, size=(settings.chains, settings.draws))
    start = time.perf_counter()
    _gradients(compiled.handle, int(warm_steps.sum()), extra)
    warmup_s = time.perf_counter() - start
    start = time.perf_counter()
    _gradients(compiled.handle, int(steps.sum()), extra)
    sampling_s = time.perf_counter() - start
    return Fit(
        draws={"mu": mu},
        diverging=np.zeros((settings.chains, settings.draws), dtype=bool),
        n_steps=steps.astype(np.int64),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        n_grad_warmup=int(warm_steps.sum()),
    )


def log_density(spec, data, points):
    return np.array([spec.log_density(p, data) for p in points])
