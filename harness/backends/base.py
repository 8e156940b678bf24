"""The backend protocol: what every module in ``harness/backends/`` provides.

A backend module defines, at import time and without importing its library:

    NAME: str                    registry key, e.g. "numpyro"
    FAMILY: str                  implementation family it reads ("pymc", "numpyro", "pyro", "stan")
    MODEL_FILE: str              the file of a model folder it reads, e.g. "pymc_model.py", "model.stan"
    REQUIRES: tuple[str, ...]    importable modules it needs
    PACKAGES: tuple[str, ...]    distributions whose versions every result records (provenance)
    DEVICES: tuple[str, ...]     "cpu" and, for JAX/torch backends, "gpu"
    SBC_REPLICATES: int          default SBC replicates per model (sized for the backend's cost)

and these functions (the library is imported inside them):

    versions() -> dict[str, str]
    gpu_available() -> tuple[bool, str]            only if "gpu" in DEVICES
    compile(spec, data, settings) -> Compiled       build/compile once for data of this shape
    sample(compiled, data, settings, seed) -> Fit   one NUTS run; data may be new values, same shapes
    log_density(spec, data, points) -> np.ndarray   joint log density at each point, shape (n_points,)

and optionally

    worker_env(cores, device) -> dict[str, str]     environment a cell's worker process gets before any
                                                    import (thread pools capped at ``cores``)
    peak_device_memory_mb() -> float | None         peak accelerator memory of this process so far
    sample_batch(compiled, datasets, settings, seeds) -> list[Fit]   many data sets in one call (SBC)
    compile_batch(spec, data, settings, batch) -> Compiled   with sample_batch: compile only the programs
                                                    for ``batch`` data sets of this shape (SBC)
    gradient_fn(spec, data, point) -> Callable[[], Any]   the sampler's log density + gradient at a
                                                    fixed point, as a zero-argument closure (micro-benchmarks)
    prior_draws(spec, data, n, seed) -> dict        n draws {name: (n, *shape)} from the backend's own prior
    unavailable_reason() -> str | None             extra availability check beyond REQUIRES
    describe() -> str                               one line for ``harness list`` (e.g. the driver)
    DEFAULT: bool                                   False keeps it out of default runs (test fakes)

Timing phases have one definition for every backend: ``compile`` is the wall time to turn the model
into something that can take a NUTS step (model build, code generation, JIT, C++ build); ``warmup``
and ``sampling`` are the wall time of the adaptation and the kept iterations, summed over chains when
chains run one after another. Asynchronous work (JAX) is synchronised before a clock is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from harness.settings import SamplerSettings
    from harness.spec import Data, ModelSpec


@dataclass
class Compiled:
    """A model ready to sample.

    handle: backend-private object (compiled kernel, pm.Model, stan model, ...).
    compile_s: wall seconds spent building it.
    cache_hit: True/False when the backend has a compile cache and we could tell, else None.
    info: backend facts to record (driver, jit, dtype, chain method, ...).
    """

    handle: Any
    compile_s: float
    cache_hit: bool | None = None
    info: dict = field(default_factory=dict)


@dataclass
class Fit:
    """One NUTS run.

    draws: free parameters, each (chain, draw, *shape), constrained scale, float64.
    diverging: (chain, draw) bool, kept iterations only.
    n_steps: (chain, draw) leapfrog steps (= gradient evaluations) per kept iteration.
    warmup_s, sampling_s: phase wall seconds (see module docstring).
    extra_compile_s: compile time that happened inside the sampling call (added to compile).
    n_grad_warmup: gradient evaluations during warm-up, when the backend reports them.
    sample_stats: more per-iteration statistics, each (chain, draw), e.g. ``lp`` (log density).
    info: backend facts to record for this run; ``sampler`` names the sampler that actually ran.
    """

    draws: dict[str, np.ndarray]
    diverging: np.ndarray
    n_steps: np.ndarray
    warmup_s: float
    sampling_s: float
    extra_compile_s: float = 0.0
    n_grad_warmup: int | None = None
    sample_stats: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def chain_seeds(seed: int, chains: int) -> list[int]:
    """Per-chain seeds (31-bit ints) derived from one seed with numpy's SeedSequence."""
    children = np.random.SeedSequence(seed).spawn(chains)
    return [int(c.generate_state(1, dtype=np.uint32)[0] >> 1) for c in children]


def stack_chains(per_chain: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """[{name: (draw, *shape)}] * chains -> {name: (chain, draw, *shape)}."""
    return {k: np.stack([np.asarray(c[k], dtype=np.float64) for c in per_chain]) for k in per_chain[0]}


class Backend(Protocol):
    """The contract above as a type: every backend module satisfies it (mypy checks each registered
    module in ``harness/backends/_typing.py``; ``nox -s lint``). Optional hooks are looked up with
    ``getattr`` by the callers and are not part of the protocol."""

    # module constants, read-only (so a module's ``DEVICES = ("cpu",)`` matches ``tuple[str, ...]``)
    @property
    def NAME(self) -> str: ...

    @property
    def FAMILY(self) -> str: ...

    @property
    def MODEL_FILE(self) -> str: ...

    @property
    def REQUIRES(self) -> tuple[str, ...]: ...

    @property
    def PACKAGES(self) -> tuple[str, ...]: ...

    @property
    def DEVICES(self) -> tuple[str, ...]: ...

    @property
    def SBC_REPLICATES(self) -> int: ...


    def versions(self) -> dict[str, str]: ...

    def compile(self, spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled: ...

    def sample(self, compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit: ...

    def log_density(self, spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray: ...
