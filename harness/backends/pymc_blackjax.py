"""PyMC models sampled by BlackJAX's NUTS on PyMC's JAX path, with honest phase times.

This is what ``pm.sample(nuts_sampler="blackjax")`` runs (``pymc.sampling.jax``): the model's log
density jaxified by ``get_jaxified_logp``, ``blackjax.window_adaptation`` (Stan-style windows,
diagonal mass matrix) from PyMC's jittered initial points, then ``blackjax.nuts`` with the tuned step
size and mass matrix; draws mapped to the constrained scale by ``get_jaxified_graph``. ``pm.sample``
runs adaptation and sampling as one traced call per chain, so the harness builds the two programs
itself and compiles them ahead of time (``jax.jit(...).lower(...).compile()``), chains vectorised:

* compile = building the ``pm.Model``, jaxifying it, and compiling the warm-up and sampling programs;
* warm-up = the adaptation program, sampling = the kept-iterations program, each ending in
  ``jax.block_until_ready`` before the clock is read.

Float64. The catalogue's models hold data as constants of the graph, so new data (SBC) rebuilds and
recompiles; that time is the run's ``extra_compile_s``.
"""

from __future__ import annotations

import time

from harness.backends import _jax, _pymc
from harness.backends import blackjax as _blackjax
from harness.backends.base import Compiled, Fit, chain_seeds
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

NAME = "pymc-blackjax"
FAMILY = _pymc.FAMILY
MODEL_FILE = _pymc.MODEL_FILE
REQUIRES = ("pymc", "blackjax", "jax")
PACKAGES = ("pymc", "pytensor", "blackjax", "jax", "jaxlib")
DEVICES = ("cpu",)
SBC_REPLICATES = 20
CHAIN_METHOD = "vectorized"
SAMPLER = _blackjax.SAMPLER

log_density = _pymc.log_density
prior_draws = _pymc.prior_draws
gradient_fn = _pymc.jax_gradient_fn
worker_env = _jax.worker_env


def versions() -> dict[str, str]:
    return {**_pymc.versions(), **_jax.versions("blackjax")}


def describe() -> str:
    return "PyMC model, jaxified; BlackJAX window adaptation + NUTS, AOT-compiled, chains vectorised"


def _programs(jm: _pymc.JaxModel, settings):
    """(warmup, sampling) vectorised over chains, in the argument layout of ``harness.backends.blackjax``.

    positions: one array (chain, *shape) per value variable (PyMC's initial points); keys (chain, 2).
    ``warmup(positions, keys) -> (state, step_size (chain,), inverse_mass_matrix (chain, d), n_grad (chain,))``
    runs window adaptation; ``sampling(state, step_size, inverse_mass_matrix, positions, keys) ->
    ({name: (chain, draw, *shape)}, diverging (chain, draw), n_steps (chain, draw))`` the kept draws.
    """
    import blackjax
    import jax

    depth = settings.max_treedepth

    def warmup_chain(position, key):
        adaptation = blackjax.window_adaptation(
            blackjax.nuts, jm.logp, is_mass_matrix_diagonal=True,
            target_acceptance_rate=settings.target_accept, max_num_doublings=depth,
            adaptation_info_fn=lambda state, info, adaptation_state: info.num_integration_steps,
        )
        (state, params), steps = adaptation.run(jax.random.fold_in(key, 0), position, num_steps=settings.warmup)
        return state, params["step_size"], params["inverse_mass_matrix"], steps.sum()

    def sampling_chain(state, step_size, inverse_mass_matrix, _position, key):
        nuts = blackjax.nuts(jm.logp, step_size, inverse_mass_matrix, max_num_doublings=depth)

        def step(s, k):
            s, info = nuts.step(k, s)
            return s, (jm.constrain(s.position), info.is_divergent, info.num_integration_steps)

        keys = jax.random.split(jax.random.fold_in(key, 1), settings.draws)
        return jax.lax.scan(step, state, keys)[1]

    return jax.vmap(warmup_chain), jax.vmap(sampling_chain)


def _positions(jm: _pymc.JaxModel, seed: int, chains: int):
    import jax

    return jax.device_put(jm.initial_positions(chain_seeds(seed, chains)))


def _prepare(spec: ModelSpec, data: Data, settings) -> dict:
    """Build, jaxify and AOT-compile both programs for ``data``: {"jm", "programs"}."""
    jm = _pymc.JaxModel(_pymc.build(spec, data), tuple(p.name for p in spec.params))
    warmup, sampling = _programs(jm, settings)
    keys = _jax.chain_keys(0, settings.chains)
    return {"jm": jm, "programs": _blackjax._build(warmup, sampling, _positions(jm, 0, settings.chains), keys)}


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the PyMC model, jaxify it and AOT-compile BlackJAX's warm-up and sampling programs."""
    _jax.configure()
    start = time.perf_counter()
    entries_before = _jax.cache_entries()
    handle = {"spec": spec, "data": data, **_prepare(spec, data, settings)}
    info = {
        "sampler": SAMPLER,
        "chain_method": CHAIN_METHOD,
        "dtype": "float64",
        "jit": True,
        "adaptation": "window_adaptation",
        "platform": _jax.jax_device().platform,
    }
    compile_s = time.perf_counter() - start
    return Compiled(handle, compile_s, cache_hit=_jax.cache_entries() == entries_before, info=info)


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One vectorised multi-chain run: the warm-up program, then the sampling program, each synchronised."""
    handle, extra_compile_s = compiled.handle, 0.0
    if not _pymc.same_data(data, handle["data"]):
        start = time.perf_counter()
        handle = _prepare(handle["spec"], data, settings)
        extra_compile_s = time.perf_counter() - start
    positions = _positions(handle["jm"], seed, settings.chains)
    keys = _jax.chain_keys(seed, settings.chains)
    fit = _blackjax._to_fit(*_blackjax._run(handle["programs"], positions, keys))
    fit.extra_compile_s = extra_compile_s
    fit.info = {"sampler": SAMPLER, "recompiled_for_data": extra_compile_s > 0}
    return fit

potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
