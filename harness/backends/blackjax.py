"""BlackJAX NUTS with Stan-style window adaptation, on the potential of the catalogue's NumPyro model.

The log density is NumPyro's potential (``numpyro.infer.util.initialize_model``, data as arguments) and
draws are constrained with its ``postprocess_fn``, so no model file of its own. Chains are vectorised
(``jax.vmap``) in one program; SBC batches data sets the same way. Float64 throughout.

Phases (each ends in ``jax.block_until_ready`` before the clock is read):
    compile: model import, NumPyro's ``initialize_model`` and the ahead-of-time compile (``jax.jit(...).lower(...).compile()``) of the warm-up and sampling programs, timed on its own.
    warmup: one call of the compiled warm-up program: NumPyro's initial point, then ``blackjax.window_adaptation`` (NUTS, diagonal mass matrix) for ``settings.warmup`` iterations.
    sampling: one call of the compiled sampling program: ``settings.draws`` NUTS iterations with the adapted step size and mass matrix, draws constrained inside it.
"""

from __future__ import annotations

import time

import numpy as np

from harness.backends import _jax
from harness.backends import numpyro as numpyro_backend
from harness.backends._jax import (  # noqa: F401 (re-exported protocol hooks)
    gpu_available,
    jax_device,
    peak_device_memory_mb,
    split_data,
    strict_support,
    worker_env,
)
from harness.backends.base import Capabilities, Compiled, Fit
from harness.catalogue import implementation
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="blackjax", family="numpyro", requires=("blackjax", "numpyro", "jax"),
    packages=("blackjax", "numpyro", "jax", "jaxlib"), extra="blackjax", devices=("cpu", "gpu"),
    sbc_replicates=200,
    vectorized_chains=True,  # all chains are one vmapped program (the GPU check scales them)
)
CHAIN_METHOD = "vectorized"
SAMPLER = "blackjax-nuts"


def versions() -> dict[str, str]:
    return _jax.versions("blackjax", "numpyro")


def describe() -> str:
    return "BlackJAX NUTS, window adaptation (diagonal), NumPyro model potential, vmapped chains"


def _model_functions(model, static: dict, arrays: dict):
    """(init_position, logdensity, constrain), each a pure function of the data ``arrays``.

    ``init_position(arrays, key) -> z``: NumPyro's initial point (uniform in (-2, 2), unconstrained);
    ``logdensity(arrays) -> (z -> scalar)``: minus NumPyro's potential energy;
    ``constrain(arrays) -> (z -> {name: value})``: NumPyro's postprocess_fn (constrained values).
    """
    import jax
    from numpyro.infer.util import initialize_model

    def model_with(a):
        return model({**static, **a})

    info = initialize_model(jax.random.PRNGKey(0), model_with, model_args=(arrays,), dynamic_args=True)

    def init_position(a, key):
        return initialize_model(key, model_with, model_args=(a,), dynamic_args=True).param_info.z

    def logdensity(a):
        potential = info.potential_fn(a)
        return lambda z: -potential(z)

    return init_position, logdensity, info.postprocess_fn


def _programs(fns, settings, param_names: tuple[str, ...]):
    """(warmup, sampling), pure functions vectorised over chains.

    ``warmup(arrays, keys[chain, 2]) -> (state, step_size[chain], inverse_mass_matrix[chain, d], n_grad[chain])``
    runs window adaptation; ``sampling(state, step_size, inverse_mass_matrix, arrays, keys) ->
    ({name: (chain, draw, *shape)}, diverging (chain, draw), n_steps (chain, draw))`` the kept draws.
    """
    import blackjax
    import jax

    init_position, logdensity, constrain = fns

    def warmup_chain(arrays, key):
        k_init, k_warm = jax.random.split(jax.random.fold_in(key, 0))
        adaptation = blackjax.window_adaptation(
            blackjax.nuts, logdensity(arrays), is_mass_matrix_diagonal=True,
            target_acceptance_rate=settings.target_accept, max_num_doublings=settings.max_treedepth,
            adaptation_info_fn=lambda state, info, adaptation_state: info.num_integration_steps,
        )
        (state, params), steps = adaptation.run(k_warm, init_position(arrays, k_init), num_steps=settings.warmup)
        return state, params["step_size"], params["inverse_mass_matrix"], steps.sum()

    def sampling_chain(state, step_size, inverse_mass_matrix, arrays, key):
        nuts = blackjax.nuts(logdensity(arrays), step_size, inverse_mass_matrix, max_num_doublings=settings.max_treedepth)
        to_constrained = constrain(arrays)

        def step(s, k):
            s, info = nuts.step(k, s)
            values = to_constrained(s.position)
            return s, ({n: values[n] for n in param_names}, info.is_divergent, info.num_integration_steps)

        keys = jax.random.split(jax.random.fold_in(key, 1), settings.draws)
        return jax.lax.scan(step, state, keys)[1]

    warmup = jax.vmap(warmup_chain, in_axes=(None, 0))
    sampling = jax.vmap(sampling_chain, in_axes=(0, 0, 0, None, 0))
    return warmup, sampling


def build_programs(functions, arrays, keys, settings=None) -> dict:
    """AOT-compile ``functions = (warmup, sampling)`` for these argument shapes (``keys``: (..., chain, 2))."""
    import jax

    warmup, sampling = functions
    adapted = jax.eval_shape(warmup, arrays, keys)
    return {
        "warmup": jax.jit(warmup).lower(arrays, keys).compile(),
        "sampling": jax.jit(sampling).lower(*adapted[:3], arrays, keys).compile(),
    }


def run_programs(programs: dict, arrays, keys, settings=None, draw_axis: int = 1):
    """Warm-up then sampling; returns (draws, diverging, n_steps, warm-up grads, warm-up s, sampling s).

    Outputs keep any vectorised axes in front: (..., chain, draw, *shape); warm-up grads (..., chain).
    """
    import jax

    start = time.perf_counter()
    state, step_size, inverse_mass_matrix, n_warm = jax.block_until_ready(programs["warmup"](arrays, keys))
    mid = time.perf_counter()
    out = jax.block_until_ready(programs["sampling"](state, step_size, inverse_mass_matrix, arrays, keys))
    end = time.perf_counter()
    draws, diverging, n_steps = out
    return draws, diverging, n_steps, n_warm, mid - start, end - mid


def _prepare(spec: ModelSpec, data: Data, settings: SamplerSettings) -> dict:
    """The handle before any compile (see ``harness.backends._jax``): pure programs and static data."""
    model = implementation(spec.name, CAPABILITIES.family).model
    arrays, static = split_data(data, settings.device)
    names = tuple(p.name for p in spec.params)
    functions = _programs(_model_functions(model, static, arrays), settings, names)
    return {"programs": None, "functions": functions, "static": static, "batched": {}}


def _builder(handle: dict, batch: int, settings: SamplerSettings):
    """``build(arrays, keys)`` of the programs for one data set (``batch`` 0) or vmapped over a batch."""
    import jax

    warmup, sampling = handle["functions"]
    if batch:
        warmup, sampling = jax.vmap(warmup), jax.vmap(sampling)
    return lambda arrays, keys: build_programs((warmup, sampling), arrays, keys)


def _info(handle: dict, settings: SamplerSettings) -> dict:
    device = jax_device(settings.device)
    return {
        "sampler": SAMPLER,
        "chain_method": CHAIN_METHOD,
        "dtype": "float64",
        "jit": True,
        "platform": device.platform,
        "device_kind": device.device_kind,
    }


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """AOT-compile the warm-up (window adaptation) and sampling programs for data of this shape."""
    _jax.configure()
    return _jax.compile_programs(_prepare(spec, data, settings), data, settings, 0, _builder, _info)


def compile_batch(spec: ModelSpec, data: Data, settings: SamplerSettings, batch: int) -> Compiled:
    """SBC: compile only the programs ``sample_batch`` runs, for ``batch`` data sets shaped like ``data``
    (``sample`` compiles its own on first use)."""
    _jax.configure()
    return _jax.compile_programs(_prepare(spec, data, settings), data, settings, batch, _builder, _info)


def _check_static(compiled: Compiled, static: dict) -> None:
    if static != compiled.handle["static"]:
        raise ValueError("data sizes differ from the compiled ones; compile again for new sizes")


def to_fit(draws, diverging, n_steps, n_warm, warmup_s, sampling_s) -> Fit:
    """Numpy Fit from one data set's outputs: draws (chain, draw, *shape), flags (chain, draw)."""
    return Fit(
        draws={k: np.asarray(v, dtype=np.float64) for k, v in draws.items()},
        diverging=np.asarray(diverging, dtype=bool),
        n_steps=np.asarray(n_steps, dtype=np.int64),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        n_grad_warmup=int(np.sum(n_warm)),
        info={"sampler": SAMPLER},
    )


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One vectorised multi-chain run; each phase ends in block_until_ready before the clock is read."""
    arrays, static = split_data(data, settings.device)
    _check_static(compiled, static)
    compile_s = _jax.ensure_programs_like(compiled.handle, data, settings, 0, _builder)
    keys = _jax.chain_keys(seed, settings.chains, settings.device)
    fit = to_fit(*run_programs(compiled.handle["programs"], arrays, keys))
    fit.extra_compile_s = compile_s
    return fit


def sample_batch(compiled: Compiled, datasets: list[Data], settings: SamplerSettings, seeds: list[int]) -> list[Fit]:
    """Many data sets of one shape in one compiled call (``jax.vmap`` over data sets).

    Phase times are per batch, divided evenly among its members; the first call for a batch size
    compiles it (unless ``compile_batch`` did) and reports that time as the first member's
    ``extra_compile_s``.
    """
    arrays, _, statics, keys = _jax.stack_batch(datasets, seeds, settings.chains, settings.device)
    for static in statics:
        _check_static(compiled, static)
    batch = len(datasets)
    compile_s = _jax.ensure_programs(compiled.handle, batch, arrays, keys, _builder(compiled.handle, batch, settings))
    draws, diverging, n_steps, n_warm, warmup_s, sampling_s = run_programs(compiled.handle["batched"][batch], arrays, keys)
    # to numpy once: slicing JAX arrays per data set costs a dispatch each
    draws = {k: np.asarray(v) for k, v in draws.items()}
    diverging, n_steps, n_warm = (np.asarray(x) for x in (diverging, n_steps, n_warm))
    fits = [
        to_fit({k: v[i] for k, v in draws.items()}, diverging[i], n_steps[i], n_warm[i], warmup_s / batch, sampling_s / batch)
        for i in range(batch)
    ]
    fits[0].extra_compile_s = compile_s
    return fits


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian) at each point, shape (n_points,): NumPyro's (same model file)."""
    return numpyro_backend.log_density(spec, data, points)


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: the log density BlackJAX samples (minus NumPyro's potential) and its gradient
    at ``point`` (unconstrained)."""
    import jax

    potential, z = numpyro_backend.potential_at(spec, data, point)
    grad = jax.jit(jax.value_and_grad(lambda q: -potential(q)))
    jax.block_until_ready(grad(z))

    def evaluate():
        return jax.block_until_ready(grad(z))

    return evaluate


def prior_draws(spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws {name: (n, *shape)} of the free parameters from the NumPyro model's prior."""
    return numpyro_backend.prior_draws(spec, data, n, seed)

potential = _jax.numpyro_potential  # equivalence hook: the NumPyro family potential (harness.equivalence)
