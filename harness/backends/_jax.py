"""JAX helpers shared by the JAX backends (NumPyro, BlackJAX).

Nothing here imports JAX at module import time; each function imports it when called. ``worker_env``
and ``peak_device_memory_mb`` are the protocol hooks of ``harness.backends.base`` that every JAX
backend re-exports.
"""

from __future__ import annotations

import contextlib
import os
import time
from functools import cache
from pathlib import Path

import numpy as np

from harness.backends.base import Compiled, chain_seeds
from harness.paths import cache_root
from harness.spec import Data

# XLA flags that ``worker_env`` owns; any others already in XLA_FLAGS are kept
_THREAD_FLAGS = ("intra_op_parallelism_threads", "xla_cpu_multi_thread_eigen")


def cache_dir() -> Path:
    """``$PPL_HARNESS_CACHE/jax`` (default ``~/.cache/ppl-harness/jax``): JAX's persistent compile cache."""
    return cache_root() / "jax"


def configure() -> None:
    """Float64 and the persistent compilation cache (every program is cached, however small)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def export_dir() -> Path:
    """``$PPL_HARNESS_CACHE/jax-export``: traced programs (``jax.export``), so a warm process skips tracing."""
    return cache_root() / "jax-export"


def program_key(*parts) -> str:
    """A cache key for traced programs: ``parts`` (model source, static data, shapes, settings, batch),
    the JAX and NumPyro versions and the source of the harness's JAX backends."""
    import hashlib
    import importlib.metadata

    h = hashlib.sha256()
    for name in ("jax", "jaxlib", "numpyro", "blackjax"):
        try:
            h.update(f"{name}={importlib.metadata.version(name)};".encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    here = Path(__file__).resolve().parent
    for source in sorted(here.glob("*.py")):
        h.update(source.read_bytes())
    h.update(repr(parts).encode())
    return h.hexdigest()[:32]


def exported_programs(key: str | None, init, advance, arrays, keys, lengths) -> dict:
    """AOT-compiled ``init(arrays, keys) -> state`` and ``advance(state, arrays, n) -> (state, out)`` for
    each loop length ``n`` in ``lengths``: {"init": compiled, "advance": {n: compiled}}.

    The programs pass the sampler state as its flat list of leaves, and go through ``jax.export``: a
    program traced once is stored under ``export_dir()/<key>`` and a later process deserialises it
    instead of tracing NumPyro's NUTS again (tracing, not XLA, is most of a warm compile; XLA's own
    persistent cache then finds the compiled program). Traced or loaded, the program is the same
    StableHLO, so its draws are the same bit for bit. A process that finds no stored programs traces
    and compiles in its turn (``harness.compile_turn``: SBC's workers, one after another, on every core),
    and one that waited finds them stored.
    """
    from harness.compile_turn import compile_turn

    folder = export_dir() / key if key else None
    files = {"init": "init.bin", **{n: f"advance-{n}.bin" for n in lengths}}
    if folder is None or all((folder / f).is_file() for f in files.values()):
        return _traced_and_compiled(folder, files, init, advance, arrays, keys, lengths)
    with compile_turn():  # SBC's workers: one traces and compiles on every core, the others then load
        return _traced_and_compiled(folder, files, init, advance, arrays, keys, lengths)


def _traced_and_compiled(folder: Path | None, files: dict, init, advance, arrays, keys, lengths) -> dict:
    """``exported_programs``'s work: load the traced programs from ``folder`` or trace and store them,
    then compile them (XLA's persistent cache answers when it has them)."""
    import jax

    if folder is not None and all((folder / f).is_file() for f in files.values()):
        loaded = {k: jax.export.deserialize(bytearray((folder / f).read_bytes())) for k, f in files.items()}
    else:
        state_shape = jax.eval_shape(init, arrays, keys)
        treedef = jax.tree.structure(state_shape)

        def init_flat(a, k):
            return jax.tree.leaves(init(a, k))

        def advance_flat(n):
            def run(leaves, a):
                state, out = advance(jax.tree.unflatten(treedef, leaves), a, n)
                return jax.tree.leaves(state), out
            return run

        loaded = {"init": jax.export.export(jax.jit(init_flat))(arrays, keys)}
        leaves = jax.tree.leaves(state_shape)
        loaded.update({n: jax.export.export(jax.jit(advance_flat(n)))(leaves, arrays) for n in lengths})
        if folder is not None:
            try:
                blobs = {f: bytes(loaded[k].serialize()) for k, f in files.items()}
            except ImportError:  # serialisation needs flatbuffers: the programs still run, untraced next time
                blobs = {}
            if blobs:
                _store(folder, blobs)
    leaves = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in loaded["init"].out_avals]
    return {"init": jax.jit(loaded["init"].call).lower(arrays, keys).compile(),
            "advance": {n: jax.jit(loaded[n].call).lower(leaves, arrays).compile() for n in lengths}}


def _store(folder: Path, blobs: dict[str, bytes]) -> None:
    """Write the serialised programs atomically (a folder renamed into place; a concurrent writer's wins)."""
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
    try:
        for name, blob in blobs.items():
            (tmp / name).write_bytes(blob)
        tmp.rename(folder)
    except OSError:  # another process stored the same programs first
        shutil.rmtree(tmp, ignore_errors=True)


def cache_entries() -> int:
    """Number of entries in the configured compile cache (0 when there is none)."""
    import jax

    path = jax.config.jax_compilation_cache_dir
    return len(os.listdir(path)) if path and os.path.isdir(path) else 0


def versions(*extra: str) -> dict[str, str]:
    """{distribution: version} for jax, jaxlib and the named extra modules (e.g. "numpyro")."""
    import importlib

    import jax
    import jaxlib

    out = {name: importlib.import_module(name).__version__ for name in extra}
    return {**out, "jax": jax.__version__, "jaxlib": jaxlib.__version__}


def gpu_available() -> tuple[bool, str]:
    """(True, "n GPU(s): kind") when JAX sees a GPU, else (False, why not)."""
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError as err:
        return False, f"JAX finds no GPU ({err})"
    return bool(gpus), f"{len(gpus)} GPU(s): {gpus[0].device_kind}" if gpus else "JAX finds no GPU"


def jax_device(device: str = "cpu"):
    """The JAX device for "cpu" or "gpu"; data placed there pins every computation to it."""
    import jax

    return jax.devices("gpu" if device == "gpu" else "cpu")[0]


def split_data(data: Data, device: str = "cpu") -> tuple[dict, dict]:
    """(arrays, static): numpy arrays become JAX arguments on ``device``; Python scalars stay constants."""
    import jax

    target = jax_device(device)
    arrays = {k: jax.device_put(v, target) for k, v in data.items() if isinstance(v, np.ndarray)}
    static = {k: v for k, v in data.items() if not isinstance(v, np.ndarray)}
    return arrays, static


def _key_data(seeds: np.ndarray) -> np.ndarray:
    """``jax.random.PRNGKey(s)`` for each non-negative int64 seed, computed in numpy: (n, 2) uint32.

    The default threefry2x32 key of seed s is (s >> 32, s & 0xffffffff); ``key_layout_ok`` checks that
    against JAX once per process, and the keys come from JAX itself when it does not hold."""
    seeds = np.asarray(seeds, dtype=np.int64)
    return np.stack([(seeds >> 32) & 0xFFFFFFFF, seeds & 0xFFFFFFFF], axis=-1).astype(np.uint32)


@cache
def key_layout_ok() -> bool:
    """Whether ``_key_data`` gives JAX's own keys (JAX's default PRNG implementation)."""
    import jax

    probe = np.array([0, 1, 12345, 2**31 - 1, 2**40 + 7], dtype=np.int64)
    return bool(np.array_equal(np.asarray(jax.vmap(jax.random.PRNGKey)(probe)), _key_data(probe)))


def chain_key_data(seed: int, chains: int) -> np.ndarray:
    """Per-chain PRNG keys as numpy, shape (chains, 2) uint32, from ``base.chain_seeds`` (chains never
    share one)."""
    import jax

    seeds = np.asarray(chain_seeds(seed, chains), dtype=np.int64)
    if key_layout_ok():
        return _key_data(seeds)
    return np.asarray(jax.vmap(jax.random.PRNGKey)(seeds))  # one dispatch, not one per chain


def chain_keys(seed: int, chains: int, device: str = "cpu"):
    """Per-chain PRNG keys on ``device``, shape (chains, 2) uint32 (``chain_key_data``)."""
    import jax

    return jax.device_put(chain_key_data(seed, chains), jax_device(device))


def stack_batch(datasets: list[Data], seeds: list[int], chains: int, device: str) -> tuple[dict, dict, list, object]:
    """SBC batch inputs: (arrays {k: (batch, ...)}, static, [static per data set], keys (batch, chains, 2)).

    Stacked in numpy and put on the device once (one transfer per entry, not one per data set)."""
    import jax

    target = jax_device(device)
    statics = [{k: v for k, v in d.items() if not isinstance(v, np.ndarray)} for d in datasets]
    arrays = {k: jax.device_put(np.stack([d[k] for d in datasets]), target)
              for k, v in datasets[0].items() if isinstance(v, np.ndarray)}
    keys = jax.device_put(np.stack([chain_key_data(s, chains) for s in seeds]), target)
    return arrays, statics[0], statics, keys


# ---------------------------------------------------------------- programs compiled once per batch size
# A NumPyro-model JAX backend's handle: {"functions": (pure programs, vectorised over chains),
# "static": the data's Python ints, "programs": the AOT-compiled programs for one data set or None,
# "batched": {B: the programs vmapped over B data sets}}. ``builder(handle, batch, settings)`` returns
# ``build(arrays, keys) -> programs`` (``batch`` 0: one data set).


def ensure_programs(handle: dict, batch: int, arrays, keys, build) -> float:
    """Compile ``build(arrays, keys)`` into ``handle`` for ``batch`` (0: one data set) unless there;
    returns the seconds it took (0 when already compiled)."""
    if (handle["batched"].get(batch) if batch else handle["programs"]) is not None:
        return 0.0
    start = time.perf_counter()
    programs = build(arrays, keys)
    if batch:
        handle["batched"][batch] = programs
    else:
        handle["programs"] = programs
    return time.perf_counter() - start


def ensure_programs_like(handle: dict, data: Data, settings, batch: int, builder) -> float:
    """``ensure_programs`` with inputs shaped like ``data`` (``batch`` copies of it when ``batch`` > 0)."""
    if batch:
        arrays, _, _, keys = stack_batch([data] * batch, [0] * batch, settings.chains, settings.device)
    else:
        arrays, keys = split_data(data, settings.device)[0], chain_keys(0, settings.chains, settings.device)
    return ensure_programs(handle, batch, arrays, keys, builder(handle, batch, settings))


def compile_programs(handle: dict, data: Data, settings, batch: int, builder, info) -> Compiled:
    """The backend's ``compile`` (``batch`` 0) or ``compile_batch``: the programs for data shaped like
    ``data``, timed, with the JAX cache's verdict; ``info(handle, settings)`` gives the backend facts."""
    start = time.perf_counter()
    entries_before = cache_entries()
    ensure_programs_like(handle, data, settings, batch, builder)
    compile_s = time.perf_counter() - start
    return Compiled(handle, compile_s, cache_hit=cache_entries() == entries_before, info=info(handle, settings))


@contextlib.contextmanager
def strict_support():
    """NumPyro validates distribution supports only when asked: on for the equivalence support check."""
    import numpyro

    with numpyro.validation_enabled(True):
        yield


def worker_env(cores: int, device: str) -> dict[str, str]:
    """The JAX part of a cell worker's environment (set before JAX is imported).

    XLA's CPU thread pool is capped to one thread when ``cores == 1``; CPU dispatch is synchronous so a
    clock read after ``block_until_ready`` is exact; ``device == "cpu"`` hides every GPU from JAX.
    Other flags already in ``XLA_FLAGS`` are kept.
    """
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if not any(t in f for t in _THREAD_FLAGS)]
    if cores == 1:
        flags += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    env = {
        "XLA_FLAGS": " ".join(flags),
        "JAX_CPU_ENABLE_ASYNC_DISPATCH": "false",
        "JAX_PLATFORMS": "cpu" if device == "cpu" else "",
    }
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def peak_device_memory_mb() -> float | None:
    """Peak bytes in use on the first GPU of this process, in MiB; None on CPU or without memory stats."""
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        return None
    if not gpus:
        return None
    try:
        stats = gpus[0].memory_stats()
    except (RuntimeError, NotImplementedError, AttributeError):  # not every PJRT plugin has memory stats
        return None
    if not stats or "peak_bytes_in_use" not in stats:
        return None
    return float(stats["peak_bytes_in_use"]) / 2**20


# ---------------------------------------------------------------- potential (equivalence hook)


class NumpyroPotential:
    """The sampler's potential of the NumPyro model: NumPyro's ``potential_fn`` (minus the log density on
    the unconstrained scale, with the log-Jacobian), from ``numpyro.infer.util.initialize_model``.

    Layout: the free parameters in ``spec.params`` order, each its unconstrained site value raveled (C
    order; a simplex site has K - 1 values). ``to_unconstrained`` is ``numpyro.infer.util.unconstrain_fn``,
    which runs the model at the point, so a support that depends on another parameter (a bound
    ``1 - alpha1``) is the one the sampler uses there. ``value_and_grad`` is
    ``jax.value_and_grad(potential_fn)``, jitted, float64.
    """

    own_transform = True

    def __init__(self, spec, data: Data):
        configure()
        import jax
        from numpyro.infer.util import initialize_model

        from harness.catalogue import implementation

        self.model = implementation(spec.name, "numpyro").model
        arrays, static = split_data(data)
        self.args = ({**static, **arrays},)
        info = initialize_model(jax.random.PRNGKey(0), self.model, model_args=self.args)
        self.names = tuple(p.name for p in spec.params)
        latent = set(info.param_info.z)
        if latent != set(self.names):
            raise ValueError(f"model {spec.name!r}: NumPyro latent sites {sorted(latent)} differ from the "
                             f"declaration's {sorted(self.names)}")
        self.shapes = {n: tuple(np.shape(info.param_info.z[n])) for n in self.names}
        self._vg = jax.jit(jax.value_and_grad(info.potential_fn))

    def to_unconstrained(self, point: dict) -> np.ndarray:
        import jax.numpy as jnp
        from numpyro.infer.util import unconstrain_fn

        params = {n: jnp.asarray(point[n], dtype=jnp.float64) for n in self.names}
        u = unconstrain_fn(self.model, self.args, {}, params)
        return np.concatenate([np.ravel(np.asarray(u[n], dtype=np.float64)) for n in self.names])

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        import jax.numpy as jnp

        z, i = {}, 0
        for n in self.names:
            shape = self.shapes[n]
            k = int(np.prod(shape, dtype=int))
            z[n] = jnp.asarray(np.asarray(u[i:i + k], dtype=np.float64).reshape(shape))
            i += k
        value, grad = self._vg(z)
        return float(value), np.concatenate([np.ravel(np.asarray(grad[n], dtype=np.float64)) for n in self.names])


def numpyro_potential(spec, data: Data) -> NumpyroPotential:
    """Equivalence hook (see ``harness.equivalence``): the NumPyro family's potential for ``data``."""
    return NumpyroPotential(spec, data)
