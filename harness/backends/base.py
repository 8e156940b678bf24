"""The backend contract: what every module in ``harness/backends/`` provides, as types.

A backend is one module. At import time, and without importing its library, it defines

    CAPABILITIES: Capabilities   its name, family, devices, SBC size, suites, pip extra (below)

and the functions of ``Backend`` (the library is imported inside them)::

    versions() -> dict[str, str]
    compile(spec, data, settings) -> Compiled        build/compile once for data of this shape
    sample(compiled, data, settings, seed) -> Fit    one NUTS run; data may be new values, same shapes
    log_density(spec, data, points) -> np.ndarray    joint log density at each point, shape (n_points,)
    potential(spec, data) -> Potential               the sampler's potential (equivalence checks)

Optional hooks are small runtime-checkable Protocols (``SupportsBatch``, ``SupportsGpu``, ...): a
module has a hook when it defines its functions, and callers ask ``isinstance(module, SupportsBatch)``
or ``optional_hook(module, "name")``, never ``getattr`` with a default.

Timing phases have one definition for every backend: ``compile`` is the wall time to turn the model
into something that can take a NUTS step (model build, code generation, JIT, C++ build); ``warmup``
and ``sampling`` are the wall time of the adaptation and the kept iterations, summed over chains when
chains run one after another. Asynchronous work (JAX) is synchronised before a clock is read.

Adding a backend: write its module (this contract), add one line to ``harness/backends/registry.py``
and its pip extra to ``pyproject.toml``; the conformance suite (``tests/backends/test_conformance.py``)
then tests it. ``docs/contributing.md`` has the recipe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from harness.settings import SamplerSettings
    from harness.spec import Data, ModelSpec

FAMILIES = ("pymc", "numpyro", "pyro", "stan")


@dataclass(frozen=True)
class Capabilities:
    """What a backend is and can do, declared once in its module.

    name: registry key ("numpyro"). family: the implementation family it reads ("pymc", "numpyro",
    "pyro", "stan"); model_families: the families of model implementation it can sample (default:
    its own). requires: importable modules it needs; packages: distributions whose versions every
    result records; extra: its pip extra (``pip install 'ppl-harness[<extra>]'``). devices: "cpu"
    and, for JAX/torch backends, "gpu". sbc_replicates: default SBC replicates per model (sized for
    its cost). quick_suite: in the regression gate's quick suite. reference_quality: a default maker
    or checker of reference posteriors. vectorized_chains: all chains are one vectorised program.
    default: joins runs that name no backends (test fakes say False). gradient_transport: how one
    gradient call reaches the library ("in-process", or "http" for PyStan). builds_program: every
    model is built into a native program first (Stan's C++: about a minute per model on a cold
    cache), so the test suite checks every model's build only under ``-m slow`` (``tests/helpers.py``).
    """

    name: str
    family: str
    requires: tuple[str, ...]
    packages: tuple[str, ...]
    extra: str
    devices: tuple[str, ...] = ("cpu",)
    sbc_replicates: int = 100
    quick_suite: bool = False
    reference_quality: bool = False
    vectorized_chains: bool = False
    default: bool = True
    gradient_transport: str = "in-process"
    model_families: tuple[str, ...] = ()
    builds_program: bool = False

    @property
    def samples(self) -> tuple[str, ...]:
        """The model families this backend can sample."""
        return self.model_families or (self.family,)

    def install_hint(self) -> str:
        return f"pip install 'ppl-harness[{self.extra}]'"


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

    draws: free parameters, each ``(chain, draw, *shape)``, constrained scale, float64.
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
    """``[{name: (draw, *shape)}] * chains`` -> ``{name: (chain, draw, *shape)}``."""
    return {k: np.stack([np.asarray(c[k], dtype=np.float64) for c in per_chain]) for k in per_chain[0]}


class Potential(Protocol):
    """The sampler's potential ``V(u) = -log p(x(u)) - log |det dx/du|`` on the library's own
    unconstrained scale, in the harness layout (``harness.equivalence.points``): the free parameters in
    ``spec.params`` order, each its unconstrained block, elementwise blocks in C order.

    own_transform: False when ``to_unconstrained`` is not the library's own map (CmdStan cannot
    unconstrain; it uses the declared supports' canonical map). A potential may also offer
    ``value_and_grad_batch(U (n, d)) -> (values (n,), grads (n, d))``.
    """

    own_transform: bool

    def to_unconstrained(self, point: dict) -> np.ndarray: ...

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]: ...


@runtime_checkable
class Backend(Protocol):
    """The contract above as a type: every registered module satisfies it (mypy checks the typed
    registry, ``harness/backends/registry.py``; the conformance suite checks it at run time)."""

    @property
    def CAPABILITIES(self) -> Capabilities: ...

    def versions(self) -> dict[str, str]: ...

    def compile(self, spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled: ...

    def sample(self, compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit: ...

    def log_density(self, spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray: ...

    def potential(self, spec: ModelSpec, data: Data) -> Potential: ...


# ---------------------------------------------------------------- optional hooks


@runtime_checkable
class SupportsWorkerEnv(Protocol):
    """Environment a cell's worker process gets before any import (thread pools capped at ``cores``)."""

    def worker_env(self, cores: int, device: str) -> dict[str, str]: ...


@runtime_checkable
class SupportsGpu(Protocol):
    """A backend that can run on a GPU: whether one is usable here."""

    def gpu_available(self) -> tuple[bool, str]: ...


@runtime_checkable
class SupportsDeviceMemory(Protocol):
    """Peak accelerator memory of this process so far (MiB), None on the CPU."""

    def peak_device_memory_mb(self) -> float | None: ...


@runtime_checkable
class SupportsBatch(Protocol):
    """Many data sets of one shape in one call (SBC), with a compile of only those programs."""

    def sample_batch(self, compiled: Compiled, datasets: list[Data], settings: SamplerSettings,
                     seeds: list[int]) -> list[Fit]: ...

    def compile_batch(self, spec: ModelSpec, data: Data, settings: SamplerSettings, batch: int) -> Compiled: ...


@runtime_checkable
class SupportsGradient(Protocol):
    """The sampler's log density and gradient at a fixed point, as a zero-argument closure (perf)."""

    def gradient_fn(self, spec: ModelSpec, data: Data, point: dict) -> Callable[[], Any]: ...


@runtime_checkable
class SupportsPriorDraws(Protocol):
    """``n`` draws ``{name: (n, *shape)}`` from the backend's own prior (checks the numpy prior sampler)."""

    def prior_draws(self, spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]: ...


@runtime_checkable
class SupportsPredictive(Protocol):
    """Draws of the observed entries at given parameters, from the backend's own model (SBC's simulator
    for models that declare ``simulator`` instead of a numpy ``simulate``).

    params: ``{name: (n, *shape)}`` for every free parameter; returns ``{observed entry: (n, *shape)}``, one
    replicate of the observed data per parameter draw, seeded by ``seed``.
    """

    def predictive(self, spec: ModelSpec, data: Data, params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class ModelInfo:
    """What ``harness new-model`` learns from one implementation file.

    params: (name, shape, support text) of every free parameter, shapes as ints or data entry names;
    observed: the data entries the implementation observes; rows: the data entry that counts the
    observations ("" when sizes come from array lengths, None when unknown); simulator: the
    implementation can simulate ("prior" and "posterior", or "posterior" only); notes: things the
    person should check, one line each.
    """

    family: str
    params: tuple[tuple[str, tuple[int | str, ...], str], ...]
    observed: tuple[str, ...]
    rows: str | None = None
    simulator: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class ImplementationError(Exception):
    """An implementation file that cannot be used; the message names the file (and line) and the problem."""


def rows_entry(data: Data, observed: list[str]) -> str | None:
    """The int data entry that counts the observations ("" when none does; None when the observed
    entries differ in length)."""
    lengths = {len(np.asarray(data[k])) for k in observed if np.ndim(data[k]) >= 1}
    if len(lengths) != 1:
        return None
    n = lengths.pop()
    counts = [k for k, v in data.items() if isinstance(v, int | np.integer) and not isinstance(v, bool) and int(v) == n]
    return counts[0] if counts else ""



@runtime_checkable
class SupportsInspect(Protocol):
    """Read one implementation file of the backend's family (``harness new-model``): its parameters,
    their shapes and supports, and its observed entries, for ``data``; raises ImplementationError."""

    def inspect_model(self, path: Path, data: Data) -> ModelInfo: ...


@runtime_checkable
class SupportsAvailabilityCheck(Protocol):
    """An availability check beyond the importable modules (CmdStan installed, Python version)."""

    def unavailable_reason(self) -> str | None: ...


@runtime_checkable
class SupportsDescribe(Protocol):
    """One line for ``harness list`` (e.g. the driver and where it was found)."""

    def describe(self) -> str: ...


@runtime_checkable
class SupportsStrictSupport(Protocol):
    """A context manager under which the library refuses out-of-support values (support check)."""

    def strict_support(self) -> contextlib.AbstractContextManager: ...


@runtime_checkable
class SupportsEvaluatedPoints(Protocol):
    """The constrained points where ``log_density`` and the potential evaluate, given ``points``, for a
    library that does not evaluate at the values it is given: Stan unconstrains every point and
    constrains it again, which can move a value by a rounding error. The equivalence checks evaluate the
    numpy density there, so a density steep enough to turn that rounding into more than a rounding
    error of its value is still compared exactly."""

    def evaluated_points(self, spec: ModelSpec, data: Data, points: list[dict]) -> list[dict]: ...


HOOKS: dict[str, type] = {
    "worker_env": SupportsWorkerEnv, "gpu_available": SupportsGpu, "peak_device_memory_mb": SupportsDeviceMemory,
    "sample_batch": SupportsBatch, "compile_batch": SupportsBatch, "gradient_fn": SupportsGradient,
    "prior_draws": SupportsPriorDraws, "predictive": SupportsPredictive, "inspect_model": SupportsInspect, "unavailable_reason": SupportsAvailabilityCheck,
    "describe": SupportsDescribe, "strict_support": SupportsStrictSupport, "potential": Backend,
    "evaluated_points": SupportsEvaluatedPoints,
}


def optional_hook(module: object, name: str) -> Callable | None:
    """The module's ``name`` function when the module satisfies the hook's Protocol, else None."""
    protocol = HOOKS[name]
    if protocol is Backend:
        fn = getattr(module, name, None)  # a required function; None only on a broken plugin
        return fn if callable(fn) else None
    return getattr(module, name) if isinstance(module, protocol) else None
