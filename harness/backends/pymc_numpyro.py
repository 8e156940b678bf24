"""PyMC models sampled by NumPyro's NUTS on PyMC's JAX path, with honest phase times.

This is what ``pm.sample(nuts_sampler="numpyro")`` runs (``pymc.sampling.jax``): the model's log
density jaxified by ``get_jaxified_logp``, NumPyro's ``NUTS(potential_fn=...)`` started from PyMC's
jittered initial points, draws mapped back to the constrained scale by ``get_jaxified_graph``.
``pm.sample`` times compile and warm-up inside one ``MCMC.run`` (its reported sampling time includes
the JIT), so the harness drives the same kernel itself, like ``harness/backends/numpyro.py``:

* compile = building the ``pm.Model``, jaxifying it, and ahead-of-time compiling
  (``jax.jit(...).lower(...).compile()``) the initialisation and the NUTS loop, chains vectorised;
* warm-up = initialisation plus the adaptation iterations, sampling = the kept iterations, each
  ending in ``jax.block_until_ready`` before the clock is read (the loop programs are shared with
  ``harness/backends/numpyro.py``).

Float64. Compiled once per data shape: the model's ``pm.Data`` containers are arguments of the
jaxified log density and of the compiled programs (PyMC's own JAX path bakes them in as constants), so a
new data set of the same shapes (SBC) runs the same programs. Other shapes rebuild and recompile;
that time is the run's ``extra_compile_s``.
"""

from __future__ import annotations

from harness.backends import _jax, _pymc, _pymc_jax
from harness.backends import numpyro as _numpyro
from harness.backends.base import Capabilities, Compiled, Fit
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="pymc-numpyro", family=_pymc.FAMILY, requires=("pymc", "numpyro", "jax"),
    packages=("pymc", "pytensor", "numpyro", "jax", "jaxlib"), extra="pymc-numpyro",
    sbc_replicates=200,  # compiled once per data shape: ~0.02 s a replicate on eight_schools_noncentered
    vectorized_chains=True,
)
CHAIN_METHOD = "vectorized"
SAMPLER = "numpyro-nuts"

log_density = _pymc.log_density
prior_draws = _pymc.prior_draws
gradient_fn = _pymc.jax_gradient_fn
worker_env = _jax.worker_env


def versions() -> dict[str, str]:
    return {**_pymc.versions(), **_jax.versions("numpyro")}


def describe() -> str:
    return "PyMC model, jaxified; NumPyro NUTS, AOT-compiled warm-up and sampling, chains vectorised"


def _programs(jm: _pymc.JaxModel, settings):
    """``init(args, keys) -> state`` and ``advance(state, args, length)``, vectorised over chains.

    args = (positions, data): positions one array (chain, *shape) per value variable, data one array
    per ``pm.Data`` container (shared by the chains). ``advance`` takes ``length`` NUTS iterations and
    returns the state and, per iteration, the constrained free parameters, divergence flags and leapfrog
    steps; adaptation runs while the iteration counter is below ``settings.warmup``.
    """
    import jax
    from numpyro.infer.hmc import hmc

    # NumPyro's functional NUTS (what ``numpyro.infer.NUTS`` drives), with the data as model arguments
    init_kernel, sample_kernel = hmc(potential_fn_gen=lambda data: lambda position: -jm.logp(position, data),
                                     algo="NUTS")

    def init_chain(args, key):
        position, data = args
        return init_kernel(position, settings.warmup, target_accept_prob=settings.target_accept,
                           max_tree_depth=settings.max_treedepth, model_args=(data,), rng_key=key)

    def advance_chain(state, args, length):
        data = args[1]

        def step(s, _):
            s = sample_kernel(s, model_args=(data,))
            return s, (jm.constrain(s.z, data), s.diverging, s.num_steps, s.energy)

        return jax.lax.scan(step, state, None, length=length)

    chains_axes = ((0, None), 0)
    return jax.vmap(init_chain, in_axes=chains_axes), jax.vmap(advance_chain, in_axes=(0, (0, None), None))


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Build the PyMC model, jaxify it and AOT-compile NumPyro's init and NUTS loop."""
    compiled = _pymc_jax.compile(_numpyro, _programs, spec, data, settings,
                                 {"sampler": SAMPLER, "chain_method": CHAIN_METHOD})
    compiled.info["loop_chunk"] = compiled.handle["programs"]["chunk"]
    return compiled


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One vectorised multi-chain run; each phase ends in block_until_ready before the clock is read."""
    return _pymc_jax.sample(_numpyro, _programs, compiled, data, settings, seed, SAMPLER)


potential = _pymc.potential  # equivalence hook: the PyMC family potential (harness.equivalence)
