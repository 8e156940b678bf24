"""PyMC with its default NUTS sampler (pytensor C backend), chains one after another.

Compile = building the ``pm.Model`` plus everything ``pm.sample`` does before the first NUTS step
(initialisation, pytensor compilation of logp and gradient, with pytensor's on-disk C cache).
Warm-up and sampling are timed per chain from a ``callback`` that PyMC calls after every iteration.
"""

from __future__ import annotations

import os
import time

import numpy as np

from harness.backends.base import Compiled, Fit
from harness.catalogue import implementation
from harness.spec import Data, ModelSpec

NAME = "pymc"
FAMILY = "pymc"
REQUIRES = ("pymc",)
DEVICES = ("cpu",)


def _link_system_blas() -> None:
    """pip-installed pytensor finds no BLAS in system library dirs and falls back to slow loops.

    When the user has not configured pytensor, point it at a system OpenBLAS (Debian:
    libopenblas-dev) if one exists. Must run before pytensor is imported; recorded per run.
    """
    import ctypes.util

    if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", "") and ctypes.util.find_library("openblas"):
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, "blas__ldflags=-lopenblas"]))


_link_system_blas()


def versions() -> dict[str, str]:
    import pymc
    import pytensor

    return {"pymc": pymc.__version__, "pytensor": pytensor.__version__}


def _compiledir_entries() -> int:
    import pytensor

    path = pytensor.config.compiledir
    return len(os.listdir(path)) if os.path.isdir(path) else 0


def compile(spec: ModelSpec, data: Data, settings) -> Compiled:
    """Build the model; pytensor compiles inside ``pm.sample`` and that time is added there."""
    start = time.perf_counter()
    model = implementation(spec.name, FAMILY).build(data)
    handle = {"spec": spec, "model": model, "data": data}
    import pytensor

    info = {"chain_method": "sequential", "blas": pytensor.config.blas__ldflags or "none (slow fallback)"}
    return Compiled(handle, time.perf_counter() - start, cache_hit=None, info=info)


class _PhaseClock:
    """pm.sample callback: wall time at every chain start, end of tuning and end of chain."""

    def __init__(self, tune: int, draws: int):
        self.tune, self.draws = tune, draws
        self.first_step: float | None = None
        self.marks: list[tuple[float, float, float]] = []  # (chain start, tuning end, chain end)
        self._chain_start = None
        self._tune_end = None

    def __call__(self, trace, draw):
        now = time.perf_counter()
        i = draw.draw_idx
        if i == 0:
            if self.first_step is None:
                self.first_step = now
            self._chain_start = self.marks[-1][2] if self.marks else now
        if i == self.tune - 1:
            self._tune_end = now
        if i == self.tune + self.draws - 1:
            self.marks.append((self._chain_start, self._tune_end, now))


def sample(compiled: Compiled, data: Data, settings, seed: int) -> Fit:
    import pymc as pm

    spec, model = compiled.handle["spec"], compiled.handle["model"]
    start = time.perf_counter()
    if data is not compiled.handle["data"]:  # new data (SBC): the model holds its data, so rebuild
        model = implementation(spec.name, FAMILY).build(data)
    clock = _PhaseClock(settings.warmup, settings.draws)
    entries_before = _compiledir_entries()
    with model:
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.warmup,
            chains=settings.chains,
            cores=1,
            random_seed=seed,
            target_accept=settings.target_accept,
            nuts={"max_treedepth": settings.max_treedepth},
            progressbar=False,
            compute_convergence_checks=False,
            callback=clock,
        )
    # pytensor writes a new module to its compile dir on a cache miss
    compiled.cache_hit = _compiledir_entries() == entries_before
    warmup_s = sum(t - s for s, t, _ in clock.marks)
    sampling_s = sum(e - t for _, t, e in clock.marks)
    post, stats = idata.posterior, idata.sample_stats
    return Fit(
        draws={p.name: post[p.name].values.astype(np.float64) for p in spec.params},
        diverging=stats["diverging"].values.astype(bool),
        n_steps=stats["n_steps"].values.astype(np.int64),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        extra_compile_s=clock.first_step - start,
    )


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian) via a transform-free copy of the model."""
    from pymc.model.transform.conditioning import remove_value_transforms

    model = remove_value_transforms(implementation(spec.name, FAMILY).build(data))
    logp = model.compile_logp(jacobian=False)
    return np.array([float(logp({k: np.asarray(v, dtype=np.float64) for k, v in p.items()})) for p in points])


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: the log density and gradient NUTS evaluates (unconstrained) at ``point``."""
    model = implementation(spec.name, FAMILY).build(data)
    fn = model.logp_dlogp_function(ravel_inputs=True)
    fn.set_extra_values({})
    constrained = {k: np.asarray(v, dtype=np.float64) for k, v in point.items()}
    unconstrained = {}
    for rv in model.free_RVs:
        value = constrained[rv.name]
        transform = model.rvs_to_transforms.get(rv)
        name = model.rvs_to_values[rv].name
        unconstrained[name] = transform.forward(value, *rv.owner.inputs).eval() if transform is not None else value
    x = np.concatenate([np.ravel(unconstrained[v.name]) for v in fn._grad_vars])

    def evaluate():
        return fn(x)

    return evaluate


def prior_draws(spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of the free parameters from PyMC's own prior (forward sampling): {name: (n, *shape)}."""
    import pymc as pm

    names = [p.name for p in spec.params]
    with implementation(spec.name, FAMILY).build(data):
        idata = pm.sample_prior_predictive(draws=n, var_names=names, random_seed=seed)
    return {k: idata.prior[k].values[0].astype(np.float64) for k in names}
