"""PyMC with its own NUTS sampler (``nuts_sampler="pymc"``), chains one after another.

PyMC 6 picks nutpie when it is installed, so the sampler is named explicitly. pytensor compiles the
log density with its default linker: C (VM) on PyTensor 2, Numba on PyTensor 3; recorded per run.

Compile = building the ``pm.Model`` and PyMC's NUTS step for it (``pm.NUTS``: pytensor compiles the
log density and gradient, with pytensor's on-disk cache) plus what ``pm.sample`` still does before the
first NUTS step (initial points, trace set-up), reported as the run's ``extra_compile_s``.
Warm-up and sampling are timed per chain from a ``callback`` that PyMC calls after every iteration.

Compiled once per data shape: the step is built once and handed to ``pm.sample(step=...)``; a new
data set of the same shapes (SBC) is swapped into the model's ``pm.Data`` containers with
``pm.set_data``, which the compiled functions read. What ``pm.sample``'s default initialisation
("jitter+adapt_diag") does is kept: every chain starts from PyMC's jittered initial point for its
seed, and the diagonal mass matrix adapts from unit variances (``QuadPotentialDiagAdapt``, PyMC's
settings). One difference: the adaptation's initial mean is the model's initial point, not the mean of
the chains' jittered starts (it carries a weight of 10 draws and is gone after the first window).
"""

from __future__ import annotations

import os
import time

import numpy as np

from harness.backends import _pymc
from harness.backends.base import Capabilities, Compiled, Fit, chain_seeds
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="pymc", family=_pymc.FAMILY, requires=("pymc",), packages=("pymc", "pytensor"), extra="pymc",
    sbc_replicates=100,  # ~0.27 s a replicate on eight_schools_noncentered (PyMC's Python NUTS loop)
    quick_suite=True,
)
SAMPLER = "pymc"


def versions() -> dict[str, str]:
    return _pymc.versions()


def describe() -> str:
    return f"PyMC's own NUTS (pytensor {_linker()}), chains one after another"


def worker_env(cores: int, device: str) -> dict[str, str]:
    """pytensor may compile numba code for some ops; cap numba's pool at the core budget."""
    return {"NUMBA_NUM_THREADS": str(cores)}


def _compiledir_entries() -> int:
    import pytensor

    path = pytensor.config.compiledir
    return len(os.listdir(path)) if os.path.isdir(path) else 0


def _prepare(spec: ModelSpec, data: Data, settings: SamplerSettings) -> dict:
    """The model for ``data``, its NUTS step (logp and gradient compiled) and its initial-point function."""
    import pymc as pm
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiagAdapt

    model = _pymc.build(spec, data)
    mean = np.concatenate([np.ravel(v) for v in model.initial_point().values()]).astype(np.float64)
    potential = QuadPotentialDiagAdapt(mean.size, mean, np.ones_like(mean), 10)
    with model:
        step = pm.NUTS(potential=potential, target_accept=settings.target_accept,
                       max_treedepth=settings.max_treedepth)
    # initial values on the unconstrained scale, unless a bound depends on a parameter (see there)
    transformed = not _pymc.bounds_depend_on_parameters(model)
    return {"spec": spec, "model": model, "data": data, "step": step,
            "initial_point": _pymc.initial_point_fn(model, transformed)}


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the model and its NUTS step (pytensor compiles the log density and its gradient)."""
    start = time.perf_counter()
    entries_before = _compiledir_entries()
    handle = _prepare(spec, data, settings)
    info = {"chain_method": "sequential", "sampler": SAMPLER, "linker": _linker(), "blas": _pymc.blas()}
    # pytensor writes a new module to its compile dir on a cache miss
    cache_hit = _compiledir_entries() == entries_before
    return Compiled(handle, time.perf_counter() - start, cache_hit=cache_hit, info=info)


def _linker() -> str:
    """pytensor's default linker class, e.g. "VMLinker" (C) or "NumbaLinker"."""
    from pytensor.compile.mode import get_default_mode

    return type(get_default_mode().linker).__name__


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


def _swap_data(compiled: Compiled, data: Data, settings: SamplerSettings) -> float:
    """Put ``data`` into the compiled model (``pm.set_data``), or rebuild it when the shapes changed
    or the model holds a differing entry as a constant; returns the seconds a rebuild took (else 0)."""
    import pymc as pm

    handle = compiled.handle
    updates = _pymc.data_updates(handle["model"], handle["data"], data)
    if updates is None:
        start = time.perf_counter()
        compiled.handle = _prepare(handle["spec"], data, settings)
        return time.perf_counter() - start
    if updates:
        with handle["model"]:
            pm.set_data(updates)
    handle["data"] = data
    return 0.0


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    import pymc as pm

    rebuild_s = _swap_data(compiled, data, settings)
    handle = compiled.handle
    spec = handle["spec"]
    clock = _PhaseClock(settings.warmup, settings.draws)
    starts = [handle["initial_point"](s) for s in chain_seeds(seed, settings.chains)]
    start = time.perf_counter()
    with handle["model"]:
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.warmup,
            step=handle["step"],
            initvals=starts,
            nuts_sampler=SAMPLER,
            chains=settings.chains,
            cores=1,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
            callback=clock,
        )
    warmup_s = sum(t - s for s, t, _ in clock.marks)
    sampling_s = sum(e - t for _, t, e in clock.marks)
    post, stats = idata.posterior, idata.sample_stats
    return Fit(
        draws={p.name: post[p.name].values.astype(np.float64) for p in spec.params},
        diverging=stats["diverging"].values.astype(bool),
        n_steps=stats["n_steps"].values.astype(np.int64),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        extra_compile_s=rebuild_s + (clock.first_step or start) - start,
        info={"sampler": SAMPLER, "recompiled_for_data": rebuild_s > 0},
    )


log_density = _pymc.log_density
gradient_fn = _pymc.gradient_fn
prior_draws = _pymc.prior_draws
predictive = _pymc.predictive  # SBC simulator hook (models that declare simulator="pymc")
inspect_model = _pymc.inspect_model  # harness new-model: parameters of a PyMC file

potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
