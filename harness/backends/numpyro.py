"""NumPyro NUTS, compiled once per data shape with the data as arguments.

Warm-up and sampling are two ahead-of-time compiled JAX programs (``jax.jit(...).lower().compile()``),
so compile time is measured on its own and a new data set of the same shape (SBC) reuses them.
Chains are vectorised (``jax.vmap``) in one program; SBC batches data sets the same way.
Float64 throughout, like the other backends.

Phases (each ends in ``jax.block_until_ready`` before the clock is read):
    compile: model import and the ahead-of-time compile of the init program and the NUTS loop (one loop length for both phases when gcd(warmup, draws) >= 50, else one per phase), timed on its own.
    warmup: the compiled init program, then the loop for ``settings.warmup`` iterations (adaptation while the iteration counter is below ``settings.warmup``).
    sampling: the loop for ``settings.draws`` kept iterations, draws constrained inside it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from harness.backends import _jax
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
    name="numpyro", family="numpyro", requires=("numpyro", "jax"), packages=("numpyro", "jax", "jaxlib"),
    extra="numpyro", devices=("cpu", "gpu"), sbc_replicates=200,
    reference_quality=True,  # default maker/checker of reference posteriors (harness reference)
    quick_suite=True,  # in the regression gate's quick suite (harness/compare/quick.py)
    vectorized_chains=True,  # all chains are one vmapped program (the GPU check scales them)
)
CHAIN_METHOD = "vectorized"
SAMPLER = "numpyro-nuts"


def versions() -> dict[str, str]:
    return _jax.versions("numpyro")


def _programs(model, static: dict, settings, param_names: tuple[str, ...]):
    """Pure functions of the data arrays, vectorised over chains.

    ``init(arrays, keys) -> state`` initialises every chain; ``advance(state, arrays, length)`` takes
    ``length`` NUTS iterations and returns the new state and, per iteration, the constrained free
    parameters, divergence flags and leapfrog steps. Adaptation runs while the state's iteration
    counter is below ``settings.warmup``, so warm-up and sampling are the same program.
    """
    import jax
    from numpyro.infer import NUTS

    def model_with(arrays):
        return model({**static, **arrays})

    kernel = NUTS(model_with, target_accept_prob=settings.target_accept, max_tree_depth=settings.max_treedepth)

    def init_chain(arrays, key):
        return kernel.init(key, settings.warmup, model_args=(arrays,), model_kwargs={})

    def advance_chain(state, arrays, length):
        constrain = kernel.postprocess_fn((arrays,), {})

        def step(s, _):
            s = kernel.sample(s, (arrays,), {})
            values = constrain(s.z)
            return s, ({k: values[k] for k in param_names}, s.diverging, s.num_steps, s.energy)

        return jax.lax.scan(step, state, None, length=length)

    init = jax.vmap(init_chain, in_axes=(None, 0))
    advance = jax.vmap(advance_chain, in_axes=(0, None, None))
    return init, advance


def chunk_length(warmup: int, draws: int) -> int:
    """Iterations per call of the compiled loop: one loop length serves both phases when it can."""
    g = math.gcd(warmup, draws)
    return g if g >= min(50, warmup, draws) else 0


def _phase_calls(n: int, chunk: int) -> list[int]:
    return [chunk] * (n // chunk) if chunk else [n]


def build_programs(functions, arrays, keys, settings, key: str | None = None) -> dict:
    """AOT-compile ``functions = (init, advance)`` (vectorised over chains, as ``_programs`` makes them) for
    these argument shapes: ``init`` and the loop lengths the two phases need, through the traced-program
    cache when ``key`` is given (``harness.backends._jax.exported_programs``)."""
    chunk = chunk_length(settings.warmup, settings.draws)
    lengths = sorted({chunk} if chunk else {settings.warmup, settings.draws})
    init, advance = functions
    programs = _jax.exported_programs(key, init, advance, arrays, keys, lengths)
    return {**programs, "chunk": chunk}


def run_programs(programs: dict, arrays, keys, settings, draw_axis: int = 1):
    """Warm-up then sampling; returns (draws, diverging, num_steps, warm-up grads, warm-up s, sampling s, energy).

    Outputs keep any vectorised axes in front: (..., chain, draw, *shape); ``draw_axis`` says where the
    draw axis is (1 for one data set, 2 for a batch).
    """
    import jax
    import jax.numpy as jnp

    start = time.perf_counter()
    state = programs["init"](arrays, keys)
    n_warm = 0
    for n in _phase_calls(settings.warmup, programs["chunk"]):
        state, (_, _, steps, _) = programs["advance"][n](state, arrays)
        n_warm = n_warm + steps.sum(axis=(draw_axis - 1, draw_axis))
    state, n_warm = jax.block_until_ready((state, n_warm))
    mid = time.perf_counter()
    pieces = []
    for n in _phase_calls(settings.draws, programs["chunk"]):
        state, out = programs["advance"][n](state, arrays)
        pieces.append(out)
    pieces = jax.block_until_ready(pieces)
    end = time.perf_counter()
    draws, diverging, num_steps, energy = jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=draw_axis), *pieces)
    return draws, diverging, num_steps, n_warm, mid - start, end - mid, energy


def _prepare(spec: ModelSpec, data: Data, settings: SamplerSettings) -> dict:
    """The handle before any compile (see ``harness.backends._jax``): pure programs and static data."""
    module = implementation(spec.name, CAPABILITIES.family)
    _, static = split_data(data, settings.device)
    names = tuple(p.name for p in spec.params)
    file = getattr(module, "__file__", None)
    source = Path(file).read_text() if file else spec.name
    return {"programs": None, "functions": _programs(module.model, static, settings, names), "static": static,
            "batched": {}, "source": source, "names": names}


def _builder(handle: dict, batch: int, settings: SamplerSettings):
    """``build(arrays, keys)`` of the programs for one data set (``batch`` 0) or vmapped over a batch."""
    import jax

    init, advance = handle["functions"]
    if batch:
        init, advance = jax.vmap(init), jax.vmap(advance, in_axes=(0, 0, None))

    def build(arrays, keys):
        shapes = {k: (tuple(v.shape), str(v.dtype)) for k, v in arrays.items()}
        key = _jax.program_key("numpyro", handle["source"], repr(sorted(handle["static"].items())), handle["names"],
                               shapes, tuple(keys.shape), settings.to_dict(), batch, jax_device(settings.device).platform)
        return build_programs((init, advance), arrays, keys, settings, key)

    return build


def _info(handle: dict, settings: SamplerSettings) -> dict:
    programs = handle["programs"] or next(iter(handle["batched"].values()))
    return {
        "sampler": SAMPLER,
        "chain_method": CHAIN_METHOD,
        "dtype": "float64",
        "jit": True,
        "loop_chunk": programs["chunk"],
        "platform": jax_device(settings.device).platform,
        "device_kind": jax_device(settings.device).device_kind,
    }


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """AOT-compile initialisation and the NUTS loop for data of this shape."""
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


def to_fit(draws, diverging, num_steps, n_warm, warmup_s, sampling_s, energy=None) -> Fit:
    return Fit(
        draws={k: np.asarray(v, dtype=np.float64) for k, v in draws.items()},
        diverging=np.asarray(diverging, dtype=bool),
        n_steps=np.asarray(num_steps, dtype=np.int64),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        n_grad_warmup=int(np.sum(n_warm)),
        sample_stats={} if energy is None else {"energy": np.asarray(energy, dtype=np.float64)},
        info={"sampler": SAMPLER},
    )


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    """One vectorised multi-chain run; each phase ends in block_until_ready before the clock is read."""
    arrays, static = split_data(data, settings.device)
    _check_static(compiled, static)
    compile_s = _jax.ensure_programs_like(compiled.handle, data, settings, 0, _builder)
    keys = _jax.chain_keys(seed, settings.chains, settings.device)
    fit = to_fit(*run_programs(compiled.handle["programs"], arrays, keys, settings, draw_axis=1))
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
    draws, diverging, num_steps, n_warm, warmup_s, sampling_s, energy = run_programs(
        compiled.handle["batched"][batch], arrays, keys, settings, draw_axis=2
    )
    # to numpy once: slicing JAX arrays per data set costs a dispatch each
    draws = {k: np.asarray(v) for k, v in draws.items()}
    diverging, num_steps, n_warm, energy = (np.asarray(x) for x in (diverging, num_steps, n_warm, energy))
    fits = [
        to_fit(
            {k: v[i] for k, v in draws.items()}, diverging[i], num_steps[i], n_warm[i],
            warmup_s / batch, sampling_s / batch, energy[i],
        )
        for i in range(batch)
    ]
    fits[0].extra_compile_s = compile_s
    return fits


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian) at each point."""
    _jax.configure()
    import jax.numpy as jnp
    from numpyro.infer.util import log_density as numpyro_log_density

    model = implementation(spec.name, CAPABILITIES.family).model
    arrays, static = split_data(data)
    full = {**static, **arrays}
    out = []
    for point in points:
        params = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in point.items()}
        out.append(float(numpyro_log_density(model, (full,), {}, params)[0]))
    return np.array(out)


def potential_at(spec: ModelSpec, data: Data, point: dict):
    """(potential_fn, z): the model's potential energy (minus log density, unconstrained space) with the
    data bound, and ``point`` (constrained {name: shape}) mapped to unconstrained space {name: shape}."""
    _jax.configure()
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import init_to_value, initialize_model

    model = implementation(spec.name, CAPABILITIES.family).model
    arrays, static = split_data(data)
    full = {**static, **arrays}
    values = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in point.items()}
    info = initialize_model(jax.random.PRNGKey(0), model, model_args=(full,), init_strategy=init_to_value(values=values))
    return info.potential_fn, info.param_info.z


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: the sampler's potential and its gradient at ``point`` (unconstrained)."""
    import jax

    potential, z = potential_at(spec, data, point)
    grad = jax.jit(jax.value_and_grad(potential))
    jax.block_until_ready(grad(z))

    def evaluate():
        return jax.block_until_ready(grad(z))

    return evaluate


def prior_draws(spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of the free parameters from the backend's own prior: {name: (n, *shape)}."""
    _jax.configure()
    import jax
    from numpyro.infer import Predictive

    model = implementation(spec.name, CAPABILITIES.family).model
    arrays, static = split_data(data)
    names = [p.name for p in spec.params]
    draws = Predictive(model, num_samples=n, return_sites=names)(jax.random.PRNGKey(seed), {**static, **arrays})
    return {k: np.asarray(draws[k], dtype=np.float64) for k in names}

def predictive(spec: ModelSpec, data: Data, params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """One replicate of the observed entries per parameter draw, from the NumPyro model: params {name:
    (n, *shape)} -> {observed entry: (n, *shape)}. Observed sites are sampled afresh (their ``obs``
    dropped); a site is matched to its data entry by name, else by its observed values."""
    _jax.configure()
    import jax
    from numpyro import handlers
    from numpyro.infer import Predictive

    model = implementation(spec.name, CAPABILITIES.family).model
    arrays, static = split_data(data)
    full = {**static, **arrays}
    trace = handlers.trace(handlers.seed(model, 0)).get_trace(full)
    sites = {}
    for key in spec.observed:
        match = [n for n, s in trace.items() if s["type"] == "sample" and s.get("is_observed")
                 and (n == key or (np.shape(s["value"]) == np.shape(data[key])
                                   and np.array_equal(np.asarray(s["value"]), np.asarray(data[key]))))]
        if not match:
            raise ValueError(f"model {spec.name!r}: observed entry {key!r} has no observed site in numpyro_model.py")
        sites[key] = key if key in match else match[0]

    class Uncondition(handlers.Messenger):
        def process_message(self, msg):
            if msg["type"] == "sample" and msg["name"] in sites.values():
                msg["value"], msg["is_observed"] = None, False

    posterior = {k: jax.numpy.asarray(v) for k, v in params.items()}
    draws = Predictive(Uncondition(model), posterior_samples=posterior, return_sites=list(sites.values()))(
        jax.random.PRNGKey(seed), full)
    return {key: np.asarray(draws[name], dtype=np.float64) for key, name in sites.items()}


def _support_text(constraint) -> str:
    """The support text (``harness.supports``) of a NumPyro constraint."""
    from numpyro.distributions import constraints as c

    base = getattr(constraint, "base_constraint", constraint)  # independent(...) of an event shape
    if base in (c.real, c.real_vector) or type(base).__name__ in ("_Real", "_RealVector"):
        return "real"
    names = {"_Simplex": "simplex", "_OrderedVector": "ordered", "_PositiveOrderedVector": "positive_ordered",
             "_CorrCholesky": "cholesky_corr"}
    if type(base).__name__ in names:
        return names[type(base).__name__]
    lower = getattr(base, "lower_bound", None)
    upper = getattr(base, "upper_bound", None)
    if lower is not None and upper is not None:
        return f"interval({float(lower):g}, {float(upper):g})"
    if lower is not None:
        return "positive" if float(lower) == 0 else f"lower({float(lower):g})"
    if upper is not None:
        return f"upper({float(upper):g})"
    raise ValueError(f"the support {base} is not one the harness describes (real, positive, lower/upper/interval, "
                     "ordered, simplex, cholesky_corr)")


def inspect_model(path, data: Data):
    """What ``harness new-model`` needs from a NumPyro file that defines ``model(data)``."""
    from pathlib import Path

    _jax.configure()
    from numpyro import handlers

    from harness.backends.base import ImplementationError, ModelInfo, rows_entry
    from harness.catalogue import import_file

    path = Path(path)
    try:
        module = import_file(path)
    except Exception as err:
        raise ImplementationError(f"{path} does not import: {type(err).__name__}: {err}") from None
    model = getattr(module, "model", None)
    if not callable(model):
        raise ImplementationError(f"{path} defines no model(data); a NumPyro implementation is a model function of "
                                  "the data dict (models/README.md)")
    from numpyro.infer import init_to_uniform

    arrays, static = split_data(data)
    try:  # values from the init strategy, so improper priors (ImproperUniform) need no sampler
        substituted = handlers.substitute(handlers.seed(model, 0), substitute_fn=init_to_uniform)
        trace = handlers.trace(substituted).get_trace({**static, **arrays})
    except Exception as err:
        raise ImplementationError(f"{path}: model(data) raised {type(err).__name__}: {err} (data entries: "
                                  f"{', '.join(sorted(data))})") from None
    params, observed, notes = [], [], []
    for name, site in trace.items():
        if site["type"] != "sample":
            continue
        if site.get("is_observed"):
            values = np.asarray(site["value"])
            key = name if name in data else next(
                (k for k, v in data.items() if np.shape(v) == values.shape and np.array_equal(v, values)), None)
            if key is None:
                notes.append(f"observed site {name!r} observes values that are no data entry (a transform of the "
                             "data?); name the observed entries with --observed")
                continue
            observed.append(key)
            continue
        if site["fn"].is_discrete:
            raise ImplementationError(f"{path}: discrete latent site {name!r}: NUTS samples continuous parameters "
                                      "only (marginalise it, e.g. with funsor)")
        try:
            support = _support_text(site["fn"].support)
        except ValueError as err:
            support = "?"
            notes.append(f"site {name!r}: {err}; write its support in model.py by hand")
        params.append((name, tuple(int(n) for n in np.shape(site["value"])), support))
    return ModelInfo(family=CAPABILITIES.family, params=tuple(params), observed=tuple(observed),
                     rows=rows_entry(data, observed), simulator=("prior", "posterior"), notes=tuple(notes))


potential = _jax.numpyro_potential  # equivalence hook: the NumPyro family potential (harness.equivalence)
