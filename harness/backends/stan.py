"""Stan's NUTS (diag_e, adapt) through PyStan 3, over the catalogue's ``model.stan`` files.

PyStan runs httpstan (Stan and stanc ship in its wheel, so it works offline) as an HTTP server inside
this process; each call is a request to it. The ``cmdstanpy`` backend runs the same programs through
CmdStan, so the two rows of a run show what this HTTP layer costs.

* Compile: httpstan caches built models per user and httpstan version (``~/.cache/httpstan``). A model
  that is not built yet is built in a child process (same Python) whose working directory and
  ``TMPDIR`` are a scratch folder in the harness cache, deleted afterwards: setuptools writes object
  files under ``./build`` and stanc writes to the temp dir, so building in this process would litter
  the caller's working directory. This process's cwd and environment are never changed. The build
  holds an exclusive lock next to httpstan's model directory (the shared resource, so harnesses with
  different ``PPL_HARNESS_CACHE`` exclude each other too) and is retried once when another process
  held that lock. ``compile`` seconds are that build plus the in-process ``stan.build`` (a cache hit).
* Sample: httpstan runs chains in a process pool as wide as the machine, so to keep the core budget
  equal to the other backends each chain is a separate request (chains one after another). Warm-up
  and sampling seconds are Stan's own per-chain "Elapsed Time", summed over chains; the rest of the
  wall time is recorded as ``request_overhead_s``.
* httpstan also caches *fits* and returns a stored fit for an identical request (a repeated seed would
  time nothing): whoever last releases the model's shared lock empties its fits directory.
* httpstan binds a Unix socket per chain in the temp dir and never removes it; for the duration of a
  chain the ``tempfile`` module points at a private directory that is deleted afterwards (restored
  in ``finally``; ``os.environ`` is not touched).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import numpy as np

from harness.backends import _stan
from harness.backends._stan import (
    cache_dir,
    elapsed_seconds,
    file_lock,
    stan_program,
    take_lock,
    to_stan_data,
    to_stan_point,
)
from harness.backends.base import Capabilities, Compiled, Fit, chain_seeds, stack_chains
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="stan", family=_stan.FAMILY, requires=("stan", "httpstan"), packages=("pystan", "httpstan"), extra="stan",
    sbc_replicates=_stan.SBC_REPLICATES,
    builds_program=True,  # a C++ build per model (tests/helpers.py: which builds every test run makes)
    reference_quality=True,  # default maker/checker of reference posteriors (harness reference)
    quick_suite=True,  # in the regression gate's quick suite (harness/compare/quick.py)
    gradient_transport="http",  # every gradient_fn call is a request to httpstan
)


def worker_env(cores: int, device: str) -> dict[str, str]:
    return _stan.worker_env(cores, device)


# Build a model in a child process: POST /models to an httpstan app (what stan.build does first).
_BUILD_SCRIPT = """
import asyncio, sys
import stan.common

async def main(code):
    async with stan.common.HttpstanClient() as client:
        resp = await client.post("/models", json={"program_code": code})
        if resp.status != 201:
            sys.exit("httpstan could not build the model: " + resp.content.decode(errors="replace"))

asyncio.run(main(sys.stdin.read()))
"""


def unavailable_reason() -> str | None:
    """PyStan's compiled models do not load on Python 3.13 (seen with httpstan 4.17: its extension
    module refers to ``_PyThreadState_UncheckedGet``, which 3.13 removed): say so instead of failing."""
    if sys.version_info >= (3, 13):
        return (f"httpstan's compiled models do not load on Python {sys.version_info.major}.{sys.version_info.minor} "
                "(undefined symbol _PyThreadState_UncheckedGet, httpstan 4.17); use cmdstanpy, or Python 3.11/3.12")
    return None


def versions() -> dict[str, str]:
    import httpstan
    import stan

    return {"pystan": stan.__version__, "httpstan": httpstan.__version__}


def describe() -> str:
    return "PyStan 3: httpstan in-process HTTP server, one request per chain"


# ---------------------------------------------------------------- httpstan's model cache


def _model_name(code: str) -> str:
    import httpstan.models

    return httpstan.models.calculate_model_name(code)


def _model_dir(model_name: str) -> Path:
    import httpstan.cache

    return httpstan.cache.model_directory(model_name)


def _lock_path(model_name: str) -> Path:
    """One lock per model next to httpstan's model directory (per user and httpstan version, like the cache)."""
    model_dir = _model_dir(model_name)
    return model_dir.parent / f"{model_dir.name}.lock"


def _is_built(model_name: str) -> bool:
    """httpstan's own test: the model directory holds an extension module."""
    try:
        return any(p.suffix in EXTENSION_SUFFIXES for p in _model_dir(model_name).iterdir())
    except FileNotFoundError:
        return False


def _empty_fits(model_name: str) -> None:
    shutil.rmtree(_model_dir(model_name) / "fits", ignore_errors=True)


@contextlib.contextmanager
def _model_in_use(model_name: str):
    """Shared lock on the model while this process looks it up, builds a handle to it or samples it;
    yields whether another process (a build holds the lock exclusively) made it wait.

    On the way out, whoever releases last (the exclusive lock is free) empties the model's fit cache:
    httpstan stores every fit with a seed and returns it for an identical request, and deleting the
    fits directory while another process's fit is in it would break that process.
    """
    path = _lock_path(model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        waited = take_lock(lock, exclusive=False)
        try:
            yield waited
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    with file_lock(path, exclusive=True, blocking=False) as held:
        if held:
            _empty_fits(model_name)


def _build_in_child(code: str) -> None:
    """Build the model into httpstan's cache from a child process with a scratch cwd and TMPDIR."""
    root = cache_dir() / "build"
    root.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="httpstan-", dir=root)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _BUILD_SCRIPT], check=False, input=code, text=True, capture_output=True,
            cwd=scratch, env={**os.environ, "TMPDIR": scratch},
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-20:])
        raise RuntimeError(f"httpstan build failed (exit {proc.returncode}):\n{tail}")


def _ensure_built(code: str, model_name: str) -> bool:
    """Build the model unless httpstan has it; True when this call built it.

    The build holds the model's lock exclusively. A build that fails after another process held the
    lock (it may have been building the same model, or removed a half-built directory) is retried once.
    """
    with _model_in_use(model_name) as waited:
        if _is_built(model_name):
            return False
    with open(_lock_path(model_name), "a") as lock:
        waited = take_lock(lock, exclusive=True) or waited
        try:
            if _is_built(model_name):
                return False
            try:
                _build_in_child(code)
            except RuntimeError:
                if not waited:
                    raise
                _build_in_child(code)
            return True
        finally:
            _empty_fits(model_name)  # held exclusively: nobody else is using the model's fits
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet():
    """PyStan writes build and sampling progress to stderr."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        yield


@contextlib.contextmanager
def _private_tempdir():
    """Point ``tempfile`` at a private directory for one call, then delete it (httpstan's socket files).

    Falls back to the system temp dir when the private path would be too long for a Unix socket.
    """
    private = tempfile.mkdtemp(prefix="ppl-harness-httpstan-")
    if len(private) > 70:  # + "/httpstan_XXXXXXXX.sock" must stay under the 107-byte AF_UNIX limit
        os.rmdir(private)
        yield
        return
    saved = tempfile.tempdir
    tempfile.tempdir = private
    try:
        yield
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(private, ignore_errors=True)


def _build_handle(code: str, model_name: str, stan_data: dict, seed: int):
    """``stan.build`` of a model already in httpstan's cache (``_ensure_built``): no compiler runs here."""
    import stan

    with _quiet(), _model_in_use(model_name):
        return stan.build(code, data=stan_data, random_seed=seed)


# ---------------------------------------------------------------- protocol


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    code = stan_program(spec).read_text()
    start = time.perf_counter()
    model_name = _model_name(code)
    built_here = _ensure_built(code, model_name)
    model = _build_handle(code, model_name, to_stan_data(spec, data), 1)
    info = {"stan_driver": "pystan", "chain_method": "sequential"}
    handle = {"spec": spec, "code": code, "model_name": model_name, "model": model}
    return Compiled(handle, time.perf_counter() - start, cache_hit=not built_here, info=info)


def _chain(handle: dict, data: Data, stan_data: dict, settings, seed: int):
    import stan

    spec, model_name = handle["spec"], handle["model_name"]
    _ensure_built(handle["code"], model_name)  # cheap when built; guards against a cache emptied meanwhile
    with _quiet(), _private_tempdir(), _model_in_use(model_name):
        model = stan.build(handle["code"], data=stan_data, random_seed=seed)  # cached: no compile
        fit = model.sample(
            num_chains=1,
            num_warmup=settings.warmup,
            num_samples=settings.draws,
            delta=settings.target_accept,
            max_depth=settings.max_treedepth,
        )
    log = "\n".join(line.decode(errors="replace") for line in fit.stan_outputs)
    warmup_s, sampling_s = elapsed_seconds(_logger_text(log))
    draws = {}
    for p in spec.params:
        values = np.asarray(fit[p.name], dtype=np.float64)  # (*shape, draws), scalars (1, draws)
        draws[p.name] = values.reshape(-1, settings.draws).T.reshape((settings.draws,) + p.resolve_shape(data))
    diverging = np.asarray(fit["divergent__"]).reshape(-1).astype(bool)
    n_steps = np.asarray(fit["n_leapfrog__"]).reshape(-1).astype(np.int64)
    return draws, diverging, n_steps, warmup_s, sampling_s


def _logger_text(raw: str) -> str:
    """The text of httpstan's logger messages (one JSON object per line)."""
    texts: list[str] = []
    for line in raw.splitlines():
        if '"logger"' in line:
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                texts.extend(str(v) for v in msg.get("values", []))
    return " ".join(t.replace("info:", " ") for t in texts)


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    stan_data = to_stan_data(compiled.handle["spec"], data)
    start = time.perf_counter()
    chains = [_chain(compiled.handle, data, stan_data, settings, s) for s in chain_seeds(seed, settings.chains)]
    wall = time.perf_counter() - start
    warmup_s = sum(c[3] for c in chains)
    sampling_s = sum(c[4] for c in chains)
    return Fit(
        draws=stack_chains([c[0] for c in chains]),
        diverging=np.stack([c[1] for c in chains]),
        n_steps=np.stack([c[2] for c in chains]),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        info={"request_overhead_s": wall - warmup_s - sampling_s, "sampler": "stan_nuts_diag_e_adapt"},
    )


def _model_for(spec: ModelSpec, data: Data):
    code = stan_program(spec).read_text()
    model_name = _model_name(code)
    _ensure_built(code, model_name)
    return _build_handle(code, model_name, to_stan_data(spec, data), 1)


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian; Stan drops constants, which cancel in differences)."""
    model = _model_for(spec, data)
    out = []
    for p in points:
        u = model.unconstrain_pars(to_stan_point(p))
        try:
            out.append(model.log_prob(u, adjust_transform=False))
        except json.JSONDecodeError:  # httpstan sends -inf as a bare "-inf", which JSON cannot carry
            out.append(-np.inf)
    return np.array(out, dtype=np.float64)


def evaluated_points(spec: ModelSpec, data: Data, points: list[dict]) -> list[dict]:
    """Equivalence hook: where ``log_density`` and the potential evaluate, given ``points``: Stan's own
    round trip, ``constrain_pars(unconstrain_pars(point))`` (the program's transforms; a value can move
    by a rounding error). Stan writes each parameter in column-major order."""
    model = _model_for(spec, data)
    shapes = {p.name: p.resolve_shape(data) for p in spec.params}
    out = []
    for p in points:
        u = model.unconstrain_pars(to_stan_point({n: p[n] for n in shapes}))
        flat = np.asarray(model.constrain_pars(u, include_tparams=False, include_gqs=False), dtype=np.float64)
        point, at = {}, 0
        for name, dims in zip(model.param_names, model.dims):  # parameters block first, in program order
            if at >= flat.size:
                break
            if name not in shapes:
                raise ValueError(f"the Stan program declares parameter {name!r}, which the spec does not")
            size = int(np.prod(dims, dtype=np.int64))
            point[name] = flat[at:at + size].reshape(tuple(dims), order="F").reshape(shapes[name])
            at += size
        out.append(point)
    return out


def inspect_model(path: Path, data: Data):
    """What ``harness new-model`` needs from a ``.stan`` file (``harness.backends._stan.inspect_program``),
    compile-checked with the stanc that ships in httpstan's wheel."""
    import httpstan

    def shapes() -> dict[str, tuple[int, ...]]:
        code = Path(path).read_text()
        model_name = _model_name(code)
        _ensure_built(code, model_name)
        model = _build_handle(code, model_name, {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                                 for k, v in data.items()}, 1)
        return {n: tuple(int(d) for d in dims) for n, dims in zip(model.param_names, model.dims)}

    return _stan.inspect_program(path, data, Path(httpstan.__file__).parent / "stanc", shapes)


REPLICATE_SUFFIX = "_rep"  # the generated quantity that replicates observed entry ``key`` is ``key + "_rep"``


def predictive(spec: ModelSpec, data: Data, params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """One replicate of the observed entries per parameter draw, from the Stan program's generated
    quantities ``<key>_rep`` (Stan's ``fixed_param`` sampler started at each draw): params {name:
    (n, *shape)} -> {observed entry: (n, *shape)}. A program without ``<key>_rep`` is an error naming it."""
    import re

    import stan

    code = stan_program(spec).read_text()
    missing = [k for k in spec.observed if not re.search(rf"\b{re.escape(k + REPLICATE_SUFFIX)}\b", code)]
    if missing:
        raise ValueError(f"model {spec.name!r}: {stan_program(spec)} has no generated quantity "
                         f"{', '.join(k + REPLICATE_SUFFIX for k in missing)} to replicate the observed data")
    model_name = _model_name(code)
    _ensure_built(code, model_name)
    n = len(next(iter(params.values())))
    inits = [to_stan_point({k: np.asarray(v[i]) for k, v in params.items()}) for i in range(n)]
    with _quiet(), _private_tempdir(), _model_in_use(model_name):
        model = stan.build(code, data=to_stan_data(spec, data), random_seed=int(seed) % (2**31 - 1))
        fit = model.fixed_param(num_chains=n, num_samples=1, init=inits)
    out = {}
    for key in spec.observed:
        values = np.asarray(fit[key + REPLICATE_SUFFIX], dtype=np.float64)  # (*shape, n)
        out[key] = np.moveaxis(values.reshape(np.shape(data[key]) + (n,)), -1, 0)
    return out


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: Stan's log density gradient at ``point`` (unconstrained, with Jacobian).

    Every call is an HTTP round trip to httpstan, which dominates the time of a small model.
    """
    model = _model_for(spec, data)
    u = model.unconstrain_pars(to_stan_point(point))

    def evaluate():
        return model.grad_log_prob(u)

    return evaluate


class StanPotential:
    """The sampler's potential of the Stan program through httpstan (equivalence hook).

    ``model.unconstrain_pars`` (the program's own transforms), ``model.log_prob(u,
    adjust_transform=True)`` and ``model.grad_log_prob(u)`` (with the Jacobian, like NUTS), negated.
    Stan drops constants of ``~`` statements; the comparisons in ``harness.equivalence`` cancel them.
    """

    own_transform = True

    def __init__(self, spec: ModelSpec, data: Data):
        self.model = _model_for(spec, data)
        self.names = tuple(p.name for p in spec.params)
        sizes = {p.name: p.space.unconstrained_size(p.resolve_shape(data)) for p in spec.params}
        native, wanted = [], set(self.names)
        for name in self.model.param_names:  # parameters block first, in program order
            if not wanted:
                break
            native.append((name, sizes.get(name, -1)))
            wanted.discard(name)
        self.index = _stan.stan_order(spec, data, native)

    def to_unconstrained(self, point: dict) -> np.ndarray:
        u = np.asarray(self.model.unconstrain_pars(to_stan_point({n: point[n] for n in self.names})), dtype=np.float64)
        if u.size != self.index.size:
            raise ValueError(f"the Stan program has {u.size} unconstrained parameters; the declaration has "
                             f"{self.index.size}: the program declares parameters the spec does not")
        return u[self.index]

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        stan_u = np.empty(len(self.index))
        stan_u[self.index] = u
        lp = self.model.log_prob(stan_u.tolist(), adjust_transform=True)
        grad = np.asarray(self.model.grad_log_prob(stan_u.tolist()), dtype=np.float64)
        return -float(lp), -grad[self.index]


def potential(spec: ModelSpec, data: Data) -> StanPotential:
    """Equivalence hook (see ``harness.equivalence``): Stan's potential for ``data``, via httpstan."""
    return StanPotential(spec, data)
