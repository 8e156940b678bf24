"""Wrong samplers for the accuracy mutation test: the real NumPyro backend with one subtle bug in its draws.

``make(mode, name)`` returns the ``sample`` of a backend named ``name`` whose draws are changed after
NumPyro sampled them (``PPL_MUTANT_PARAM``, default ``tau``: one parameter; the chain bug all of them):

* ``scale``:         every draw of the parameter x 1.1 (the bug issue 18 describes);
* ``shift``:         the parameter + 0.1 of its posterior sd (the fit's own);
* ``half_variance``: the parameter's draws pulled towards their mean, variance halved;
* ``stuck_chain``:   chain 0 stuck: every parameter keeps its first draw for the whole chain.

Registered by ``tests/test_accuracy_mutants.py`` (``mutant_scale=tests.fakes.mutant_scale`` ...).
"""

import os

import numpy as np

from harness.backends import numpyro as real
from harness.backends.base import Capabilities

compile = real.compile
log_density = real.log_density
potential = real.potential
versions = real.versions
worker_env = real.worker_env


def capabilities(name: str) -> Capabilities:
    return Capabilities(name=name, family="numpyro", requires=("numpyro", "jax"), packages=("numpyro", "jax"),
                        extra="numpyro", default=False)


def mutate(draws: dict[str, np.ndarray], mode: str, param: str) -> dict[str, np.ndarray]:
    out = {k: np.array(v, dtype=np.float64, copy=True) for k, v in draws.items()}
    x = out[param]
    if mode == "scale":
        out[param] = x * 1.1
    elif mode == "shift":
        out[param] = x + 0.1 * x.std(axis=(0, 1), ddof=1)
    elif mode == "half_variance":
        mean = x.mean(axis=(0, 1))
        out[param] = mean + (x - mean) / np.sqrt(2.0)
    elif mode == "stuck_chain":
        for v in out.values():
            v[0] = v[0, :1]
    else:
        raise ValueError(f"unknown mutant mode {mode!r}")
    return out


def make(mode: str):
    def sample(compiled, data, settings, seed):
        fit = real.sample(compiled, data, settings, seed)
        fit.draws = mutate(fit.draws, mode, os.environ.get("PPL_MUTANT_PARAM", "tau"))
        return fit

    return sample
