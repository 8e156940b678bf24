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

Float64. Compiled once per data shape: the model's ``pm.Data`` containers are arguments of the
jaxified log density and of the compiled programs (PyMC's own JAX path bakes them in as constants), so a
new data set of the same shapes (SBC) runs the same programs. Other shapes rebuild and recompile;
that time is the run's ``extra_compile_s``.
"""

from __future__ import annotations

from harness.backends import _jax, _pymc, _pymc_jax
from harness.backends import blackjax as _blackjax
from harness.backends.base import Capabilities, Compiled, Fit
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="pymc-blackjax", family=_pymc.FAMILY, requires=("pymc", "blackjax", "jax"),
    packages=("pymc", "pytensor", "blackjax", "jax", "jaxlib"), extra="pymc-blackjax",
    sbc_replicates=200,  # compiled once per data shape: ~0.02 s a replicate on eight_schools_noncentered
    vectorized_chains=True,
)
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

    args = (positions, data): positions one array (chain, *shape) per value variable (PyMC's initial
    points), data one array per ``pm.Data`` container (shared by the chains); keys (chain, 2).
    ``warmup(args, keys) -> (state, step_size (chain,), inverse_mass_matrix (chain, d), n_grad (chain,))``
    runs window adaptation; ``sampling(state, step_size, inverse_mass_matrix, args, keys) ->
    ({name: (chain, draw, *shape)}, diverging (chain, draw), n_steps (chain, draw))`` the kept draws.
    """
    import blackjax
    import jax

    depth = settings.max_treedepth

    def logdensity(data):
        return lambda position: jm.logp(position, data)

    def warmup_chain(args, key):
        position, data = args
        adaptation = blackjax.window_adaptation(
            blackjax.nuts, logdensity(data), is_mass_matrix_diagonal=True,
            target_acceptance_rate=settings.target_accept, max_num_doublings=depth,
            adaptation_info_fn=lambda state, info, adaptation_state: info.num_integration_steps,
        )
        (state, params), steps = adaptation.run(jax.random.fold_in(key, 0), position, num_steps=settings.warmup)
        return state, params["step_size"], params["inverse_mass_matrix"], steps.sum()

    def sampling_chain(state, step_size, inverse_mass_matrix, args, key):
        data = args[1]
        nuts = blackjax.nuts(logdensity(data), step_size, inverse_mass_matrix, max_num_doublings=depth)

        def step(s, k):
            s, info = nuts.step(k, s)
            return s, (jm.constrain(s.position, data), info.is_divergent, info.num_integration_steps)

        keys = jax.random.split(jax.random.fold_in(key, 1), settings.draws)
        return jax.lax.scan(step, state, keys)[1]

    args_axes = (0, None)
    return (jax.vmap(warmup_chain, in_axes=(args_axes, 0)),
            jax.vmap(sampling_chain, in_axes=(0, 0, 0, args_axes, 0)))


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the PyMC model, jaxify it and AOT-compile BlackJAX's warm-up and sampling programs."""
    return _pymc_jax.compile(_blackjax, _programs, spec, data, settings,
                             {"sampler": SAMPLER, "chain_method": CHAIN_METHOD, "adaptation": "window_adaptation"})


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One vectorised multi-chain run: the warm-up program, then the sampling program, each synchronised."""
    return _pymc_jax.sample(_blackjax, _programs, compiled, data, settings, seed, SAMPLER)


potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
