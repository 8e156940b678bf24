"""PyMC with its own NUTS sampler (``nuts_sampler="pymc"``), chains one after another.

PyMC 6 picks nutpie when it is installed, so the sampler is named explicitly. pytensor compiles the
log density with its default linker: C (VM) on PyTensor 2, Numba on PyTensor 3; recorded per run.

Compile = building the ``pm.Model`` plus everything ``pm.sample`` does before the first NUTS step
(initialisation, pytensor compilation of logp and gradient, with pytensor's on-disk cache).
Warm-up and sampling are timed per chain from a ``callback`` that PyMC calls after every iteration.
"""

from __future__ import annotations

import os
import time

import numpy as np

from harness.backends import _pymc
from harness.backends.base import Compiled, Fit
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

NAME = "pymc"
FAMILY = _pymc.FAMILY
MODEL_FILE = _pymc.MODEL_FILE
REQUIRES = ("pymc",)
PACKAGES = ("pymc", "pytensor")
DEVICES = ("cpu",)
SBC_REPLICATES = 20
QUICK_SUITE = True  # in the regression gate's quick suite (harness/compare/quick.py)
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


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the model; pytensor compiles inside ``pm.sample`` and that time is added there."""
    start = time.perf_counter()
    model = _pymc.build(spec, data)
    handle = {"spec": spec, "model": model, "data": data}
    info = {"chain_method": "sequential", "sampler": SAMPLER, "linker": _linker(), "blas": _pymc.blas()}
    return Compiled(handle, time.perf_counter() - start, cache_hit=None, info=info)


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


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    import pymc as pm

    spec, model = compiled.handle["spec"], compiled.handle["model"]
    start = time.perf_counter()
    if not _pymc.same_data(data, compiled.handle["data"]):  # new data (SBC): the model holds it, so rebuild
        model = _pymc.build(spec, data)
    clock = _PhaseClock(settings.warmup, settings.draws)
    entries_before = _compiledir_entries()
    with model:
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.warmup,
            nuts_sampler=SAMPLER,
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
        extra_compile_s=(clock.first_step or start) - start,
        info={"sampler": SAMPLER},
    )


log_density = _pymc.log_density
gradient_fn = _pymc.gradient_fn
prior_draws = _pymc.prior_draws

potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
