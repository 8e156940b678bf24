"""nutpie's NUTS (Rust) on the catalogue's PyMC models, log density compiled by pytensor's Numba backend.

Compile = building the ``pm.Model`` plus ``nutpie.compile_pymc_model(model, backend="numba")``, which
compiles the log density and gradient to Numba C callbacks before returning (nothing is compiled
inside ``nutpie.sample``). Compiled once per data shape: the catalogue's models hold their data in
``pm.Data`` containers, which nutpie's compiled model takes as arguments, so a new data set of the same
shapes (SBC) is swapped in with ``compiled.with_data`` (no compile). Only data that does not fit
(other shapes) rebuilds and recompiles, reported as the run's ``extra_compile_s``.

Chains run on nutpie's own thread pool with ``cores=settings.cores`` threads (one after another when
``cores == 1``). Phase times come from one wall clock read around the sampler, from creating it
(``nutpie.sample(..., blocking=False)``) until every chain has finished (the conversion of the
trace to ArviZ is left out); call that T. T is split between warm-up and sampling:

* nutpie >= 0.16.9 (``progress_callback``): nutpie calls back every ``PROGRESS_RATE_MS`` with each
  chain's finished draws; each call is stamped with ``time.perf_counter()``. The moment a chain
  starts, finishes its last tuning draw and finishes its last draw is placed between the two
  stamps around it, interpolated by the leapfrog steps of the draws in between (from the trace's
  ``n_steps``). Warm-up gets the share of T that the chains spent, summed, between start and end
  of tuning; sampling the rest (``phase_split: "progress"``). With ``cores == 1`` this is the
  sum over chains of each phase, as the harness defines it.
* older nutpie: the share of T is the warm-up share of all leapfrog steps (gradient evaluations)
  (``phase_split: "leapfrog_share"``), an estimate that assumes every step costs the same.
"""

from __future__ import annotations

import time

import numpy as np

from harness.backends import _pymc
from harness.backends.base import Capabilities, Compiled, Fit
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="nutpie", family=_pymc.FAMILY, requires=("pymc", "nutpie", "numba"),
    packages=("pymc", "pytensor", "nutpie", "numba"), extra="nutpie",
    sbc_replicates=200,  # compiled once per data shape: ~0.04 s a replicate on eight_schools_noncentered
)
NUTPIE_BACKEND = "numba"
PROGRESS_RATE_MS = 1

log_density = _pymc.log_density
prior_draws = _pymc.prior_draws


def versions() -> dict[str, str]:
    return _pymc.versions("nutpie", "numba")


def describe() -> str:
    return f"nutpie NUTS (Rust), PyMC model compiled with pytensor's {NUTPIE_BACKEND} backend"


def worker_env(cores: int, device: str) -> dict[str, str]:
    """Numba's thread pool capped at the core budget (nutpie's chain threads come from ``cores``)."""
    return {"NUMBA_NUM_THREADS": str(cores)}


def _compile(spec: ModelSpec, data: Data) -> dict:
    """{"spec", "data", "pymc_model", "model"}: the PyMC model for ``data`` and nutpie's compiled model."""
    import nutpie

    pymc_model = _pymc.build(spec, data)
    model = nutpie.compile_pymc_model(pymc_model, backend=NUTPIE_BACKEND)
    return {"spec": spec, "data": data, "pymc_model": pymc_model, "model": model}


def _chain_method(settings) -> str:
    return "sequential" if min(settings.cores, settings.chains) == 1 else "parallel"


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the PyMC model and compile its log density with nutpie (Numba)."""
    start = time.perf_counter()
    handle = _compile(spec, data)
    info = {"sampler": "nutpie", "nutpie_backend": NUTPIE_BACKEND, "chain_method": _chain_method(settings)}
    return Compiled(handle, time.perf_counter() - start, info=info)


def _supports_progress_callback() -> bool:
    import inspect

    import nutpie

    return "progress_callback" in inspect.signature(nutpie.sample).parameters


class _ProgressLog:
    """nutpie progress callback: ``stamps`` (n,) wall times and ``finished`` (n, chain) draws done."""

    def __init__(self, start: float, chains: int):
        self.stamps = [start]
        self.finished = [[0] * chains]

    def __call__(self, progress) -> None:
        now = time.perf_counter()
        self.stamps.append(now)
        self.finished.append([chain.finished_draws for chain in progress])


def _event_time(stamps: np.ndarray, finished: np.ndarray, cum_steps: np.ndarray, k: int) -> float:
    """Wall time at which a chain had finished ``k`` draws.

    stamps (n,): callback times; finished (n,): the chain's finished draws then (non-decreasing);
    cum_steps (n_draws + 1,): leapfrog steps of its first j draws. ``k == 0`` is the chain's start:
    the last stamp before its first draw. Otherwise interpolated in steps between the last stamp with
    fewer than ``k`` draws and the first with at least ``k``.
    """
    after = int(np.searchsorted(finished, max(k, 1), side="left"))
    before = after - 1
    if k == 0:
        return float(stamps[before])
    f0, f1 = finished[before], finished[after]
    frac = (cum_steps[k] - cum_steps[f0]) / max(cum_steps[f1] - cum_steps[f0], 1)
    return float(stamps[before] + frac * (stamps[after] - stamps[before]))


def _warmup_share(log: _ProgressLog | None, steps: np.ndarray, tune: int) -> tuple[float, str]:
    """Warm-up's share of the sampler's time; ``steps`` (chain, tune + draws) leapfrog steps per draw."""
    if log is None:
        return float(steps[:, :tune].sum() / steps.sum()), "leapfrog_share"
    stamps, finished = np.array(log.stamps), np.array(log.finished)
    warm = total = 0.0
    for c in range(steps.shape[0]):
        cum = np.concatenate([[0], np.cumsum(steps[c])])
        start, mid, end = (_event_time(stamps, finished[:, c], cum, k) for k in (0, tune, steps.shape[1]))
        warm, total = warm + mid - start, total + end - start
    return warm / total, "progress"


def _run(model, settings, seed: int, log_progress: bool):
    """One blocking nutpie run; returns (trace, wall seconds of the sampler, progress log or None)."""
    import nutpie

    start = time.perf_counter()
    log = _ProgressLog(start, settings.chains) if log_progress else None
    progress = {"progress_callback": log, "progress_rate": PROGRESS_RATE_MS} if log else {}
    sampler = nutpie.sample(
        model,
        draws=settings.draws,
        tune=settings.warmup,
        chains=settings.chains,
        cores=settings.cores,
        seed=seed,
        target_accept=settings.target_accept,
        maxdepth=settings.max_treedepth,
        save_warmup=True,
        progress_bar=False,
        blocking=False,
        **progress,
    )
    _wait(sampler)
    wall_s = time.perf_counter() - start
    return sampler.wait(), wall_s, log


def _wait(sampler) -> None:
    """Block until every chain is done, leaving the trace unconverted (``wait()`` also converts it).

    Waits on nutpie's Rust sampler directly (GIL released) where it is reachable, else polls.
    """
    raw = getattr(sampler, "_sampler", None)
    if raw is not None and hasattr(raw, "wait"):
        raw.wait(None)
        return
    while True:
        try:
            if sampler.is_finished:  # waits up to 1 ms inside nutpie, raising TimeoutError if not done
                return
        except TimeoutError:
            pass


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One nutpie run; phases split as the module docstring says."""
    spec, model, extra_compile_s = compiled.handle["spec"], compiled.handle["model"], 0.0
    updates = _pymc.data_updates(compiled.handle["pymc_model"], compiled.handle["data"], data)
    if updates is None:  # other shapes, or a differing entry held as a constant: recompile
        start = time.perf_counter()
        compiled.handle = _compile(spec, data)
        model = compiled.handle["model"]
        extra_compile_s = time.perf_counter() - start
    elif updates:
        model = model.with_data(**updates)
    trace, wall_s, log = _run(model, settings, seed, _supports_progress_callback())
    post, stats = trace.posterior, trace.sample_stats
    n_steps = stats["n_steps"].values.astype(np.int64)
    n_warm = trace.warmup_sample_stats["n_steps"].values.astype(np.int64)
    share, how = _warmup_share(log, np.concatenate([n_warm, n_steps], axis=1), settings.warmup)
    return Fit(
        draws={p.name: post[p.name].values.astype(np.float64) for p in spec.params},
        diverging=stats["diverging"].values.astype(bool),
        n_steps=n_steps,
        warmup_s=wall_s * share,
        sampling_s=wall_s * (1 - share),
        extra_compile_s=extra_compile_s,
        n_grad_warmup=int(n_warm.sum()),
        info={"sampler": "nutpie", "phase_split": how, "recompiled_for_data": extra_compile_s > 0},
    )


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: nutpie's compiled (Numba) log density and gradient at ``point``.

    The point goes on nutpie's flat unconstrained vector (free variables in ``model.free_RVs`` order).
    """
    pymc_model = _pymc.build(spec, data)
    import nutpie

    compiled = nutpie.compile_pymc_model(pymc_model, backend=NUTPIE_BACKEND)
    unconstrained = _pymc.unconstrained_point(pymc_model, point)
    names = [pymc_model.rvs_to_values[rv].name for rv in pymc_model.free_RVs]
    x = np.concatenate([np.ravel(unconstrained[n]) for n in names])
    fn = compiled.logp_func

    def evaluate():
        return fn(x)

    return evaluate

potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
