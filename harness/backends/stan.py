"""Stan's NUTS (diag_e, adapt) over the catalogue's ``model.stan`` files, with two drivers.

* ``cmdstanpy`` where a CmdStan install is found (``$CMDSTAN`` or ``~/.cmdstan``); executables are
  cached next to a copy of the program in the harness cache.
* ``pystan`` otherwise: httpstan ships Stan and stanc in its wheel, so it works offline. httpstan
  caches compiled models (a cache hit is detected from its model directory) and also *fits*: the
  harness deletes each fit after reading it, so a repeated seed can never return a stored fit.
  httpstan runs chains in a process pool as wide as the machine, so to keep the core budget equal
  to the other backends each chain is a separate request (chains one after another).

``PPL_HARNESS_STAN_DRIVER=pystan|cmdstanpy`` forces a driver. Warm-up and sampling seconds are
Stan's own per-chain "Elapsed Time" (wall time inside the sampler), summed over chains.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np

from harness.backends.base import Compiled, Fit, chain_seeds, stack_chains
from harness.catalogue import stan_file
from harness.spec import Data, ModelSpec

NAME = "stan"
FAMILY = "stan"
REQUIRES = ()  # either driver will do: see unavailable_reason()
DEVICES = ("cpu",)

# Stan's per-chain timing, in a CmdStan CSV comment block or in httpstan's logger messages
_ELAPSED = re.compile(r"Elapsed Time:[\s#]*([0-9.eE+-]+) seconds \(Warm-up\)[\s#]*([0-9.eE+-]+) seconds \(Sampling\)")


def _cache_dir() -> Path:
    root = Path(os.environ.get("PPL_HARNESS_CACHE", Path.home() / ".cache" / "ppl-harness"))
    return root / "stan"


def cmdstan_found() -> str | None:
    """Path of a usable CmdStan install, or None."""
    try:
        import cmdstanpy

        return cmdstanpy.cmdstan_path()
    except Exception:  # cmdstanpy raises ValueError/RuntimeError when nothing is installed
        return None


def driver() -> str:
    """'cmdstanpy' or 'pystan': the forced one, else cmdstanpy when CmdStan exists, else pystan."""
    forced = os.environ.get("PPL_HARNESS_STAN_DRIVER")
    if forced:
        if forced not in ("pystan", "cmdstanpy"):
            raise ValueError(f"PPL_HARNESS_STAN_DRIVER must be 'pystan' or 'cmdstanpy', got {forced!r}")
        return forced
    return "cmdstanpy" if cmdstan_found() else "pystan"


def unavailable_reason() -> str | None:
    import importlib.util

    name = driver()
    if name == "cmdstanpy":
        if importlib.util.find_spec("cmdstanpy") is None:
            return "not installed: cmdstanpy"
        return None if cmdstan_found() else "cmdstanpy finds no CmdStan install (set CMDSTAN)"
    return None if importlib.util.find_spec("stan") is not None else "not installed: pystan (or cmdstanpy + CmdStan)"


def describe() -> str:
    return f"driver: {driver()}"


def versions() -> dict[str, str]:
    out = {"stan_driver": driver()}
    if out["stan_driver"] == "cmdstanpy":
        import cmdstanpy

        out["cmdstanpy"] = cmdstanpy.__version__
        out["cmdstan"] = Path(cmdstan_found()).name
    else:
        import httpstan
        import stan

        out["pystan"] = stan.__version__
        out["httpstan"] = httpstan.__version__
    return out


@contextlib.contextmanager
def _scratch_cwd():
    """httpstan writes object files under ./build and sockets under TMPDIR: keep both in the cache."""
    scratch = _cache_dir() / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    old_cwd, old_tmp = os.getcwd(), os.environ.get("TMPDIR")
    os.chdir(scratch)
    os.environ["TMPDIR"] = str(scratch)
    try:
        yield scratch
    finally:
        os.chdir(old_cwd)
        if old_tmp is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_tmp


def _to_stan_data(spec: ModelSpec, data: Data) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in spec.stan_data(data).items()}


def elapsed_seconds(text: str) -> tuple[float, float]:
    """(warm-up s, sampling s) from Stan's "Elapsed Time" report."""
    match = _ELAPSED.search(" ".join(text.split()))
    if match is None:
        raise RuntimeError("Stan output has no 'Elapsed Time' line")
    return float(match.group(1)), float(match.group(2))


# ---------------------------------------------------------------- pystan driver


def _pystan_compile(spec: ModelSpec, data: Data) -> Compiled:
    import httpstan.cache
    import httpstan.models
    import stan

    code = stan_file(spec.name).read_text()
    model_name = httpstan.models.calculate_model_name(code)
    cached = httpstan.cache.model_directory(model_name).exists()
    start = time.perf_counter()
    with _scratch_cwd():
        model = stan.build(code, data=_to_stan_data(spec, data), random_seed=1)
    info = {"stan_driver": "pystan", "chain_method": "sequential"}
    handle = {"spec": spec, "code": code, "model_name": model_name, "model": model}
    return Compiled(handle, time.perf_counter() - start, cache_hit=cached, info=info)


@contextlib.contextmanager
def _fit_cache_guard(model_name: str):
    """Hold a shared lock on the model's httpstan fit cache while sampling; empty it on the way out
    only if no other process is sampling the same model (else the last one out does).

    httpstan stores every fit with a seed and returns it for an identical request, so a repeated
    seed would time nothing; deleting the fits directory while another process's fit is in it would
    break that process, hence the lock.
    """
    import fcntl

    import httpstan.cache

    lock_path = _cache_dir() / "locks" / f"{model_name.replace('/', '_')}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process is mid-fit; it empties the cache when it finishes
            try:
                shutil.rmtree(httpstan.cache.model_directory(model_name) / "fits", ignore_errors=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _pystan_chain(handle: dict, data: Data, stan_data: dict, settings, seed: int):
    import stan

    spec = handle["spec"]
    with _scratch_cwd(), contextlib.redirect_stderr(open(os.devnull, "w")):
        model = stan.build(handle["code"], data=stan_data, random_seed=seed)  # cached: no compile
        with _fit_cache_guard(handle["model_name"]):
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
    import json

    texts = []
    for line in raw.splitlines():
        if '"logger"' in line:
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                texts.extend(str(v) for v in msg.get("values", []))
    return " ".join(t.replace("info:", " ") for t in texts)


# ---------------------------------------------------------------- cmdstanpy driver


def _cmdstan_compile(spec: ModelSpec, data: Data) -> Compiled:
    import cmdstanpy

    src = stan_file(spec.name)
    work = _cache_dir() / "cmdstan" / spec.name
    work.mkdir(parents=True, exist_ok=True)
    target = work / "model.stan"
    if not target.exists() or target.read_text() != src.read_text():
        shutil.copyfile(src, target)
    exe = work / ("model.exe" if os.name == "nt" else "model")
    cached = exe.exists() and exe.stat().st_mtime >= target.stat().st_mtime
    start = time.perf_counter()
    model = cmdstanpy.CmdStanModel(stan_file=str(target))
    info = {"stan_driver": "cmdstanpy"}
    return Compiled({"spec": spec, "model": model}, time.perf_counter() - start, cache_hit=cached, info=info)


def _cmdstan_sample(compiled: Compiled, data: Data, settings, seed: int) -> Fit:
    spec, model = compiled.handle["spec"], compiled.handle["model"]
    out_dir = _cache_dir() / "cmdstan" / spec.name / "runs"
    out_dir.mkdir(parents=True, exist_ok=True)
    fit = model.sample(
        data={k: v for k, v in _to_stan_data(spec, data).items()},
        chains=settings.chains,
        parallel_chains=min(settings.cores, settings.chains),
        iter_warmup=settings.warmup,
        iter_sampling=settings.draws,
        adapt_delta=settings.target_accept,
        max_treedepth=settings.max_treedepth,
        seed=seed,
        output_dir=str(out_dir),
        show_progress=False,
    )
    times = [elapsed_seconds(Path(f).read_text()) for f in fit.runset.csv_files]
    draws = {}
    for p in spec.params:
        values = np.asarray(fit.stan_variable(p.name), dtype=np.float64)  # (chain*draw, *shape)
        draws[p.name] = values.reshape((settings.chains, settings.draws) + values.shape[1:])
    method = fit.method_variables()
    fit_out = Fit(
        draws=draws,
        diverging=np.asarray(method["divergent__"]).T.astype(bool),
        n_steps=np.asarray(method["n_leapfrog__"]).T.astype(np.int64),
        warmup_s=sum(t[0] for t in times),
        sampling_s=sum(t[1] for t in times),
        info={"chain_method": "parallel" if min(settings.cores, settings.chains) > 1 else "sequential"},
    )
    for f in fit.runset.csv_files:
        with contextlib.suppress(OSError):
            os.remove(f)
    return fit_out


# ---------------------------------------------------------------- protocol


def compile(spec: ModelSpec, data: Data, settings) -> Compiled:
    if driver() == "cmdstanpy":
        return _cmdstan_compile(spec, data)
    return _pystan_compile(spec, data)


def sample(compiled: Compiled, data: Data, settings, seed: int) -> Fit:
    if compiled.info["stan_driver"] == "cmdstanpy":
        return _cmdstan_sample(compiled, data, settings, seed)
    stan_data = _to_stan_data(compiled.handle["spec"], data)
    start = time.perf_counter()
    chains = [_pystan_chain(compiled.handle, data, stan_data, settings, s) for s in chain_seeds(seed, settings.chains)]
    wall = time.perf_counter() - start
    warmup_s = sum(c[3] for c in chains)
    sampling_s = sum(c[4] for c in chains)
    return Fit(
        draws=stack_chains([c[0] for c in chains]),
        diverging=np.stack([c[1] for c in chains]),
        n_steps=np.stack([c[2] for c in chains]),
        warmup_s=warmup_s,
        sampling_s=sampling_s,
        info={"request_overhead_s": wall - warmup_s - sampling_s},
    )


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian; Stan drops constants, which cancel in differences)."""
    def as_stan(point):
        return {k: (np.asarray(v).tolist()) for k, v in point.items()}

    if driver() == "cmdstanpy":
        compiled = _cmdstan_compile(spec, data)
        stan_data = _to_stan_data(spec, data)
        return np.array(
            [float(compiled.handle["model"].log_prob(as_stan(p), data=stan_data, jacobian=False)["lp__"].iloc[0])
             for p in points]
        )
    model = _pystan_compile(spec, data).handle["model"]
    return np.array([model.log_prob(model.unconstrain_pars(as_stan(p)), adjust_transform=False) for p in points])


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: Stan's log density gradient at ``point`` (unconstrained, with Jacobian).

    With the PyStan driver every call is an HTTP round trip to httpstan, which dominates the time of
    a small model; the cmdstanpy driver has no per-call gradient API and is not supported here.
    """
    if driver() != "pystan":
        raise NotImplementedError("per-call gradients need the pystan driver")
    model = _pystan_compile(spec, data).handle["model"]
    u = model.unconstrain_pars({k: np.asarray(v).tolist() for k, v in point.items()})

    def evaluate():
        return model.grad_log_prob(u)

    return evaluate
