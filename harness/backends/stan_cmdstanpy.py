"""Stan's NUTS (diag_e, adapt) through cmdstanpy and CmdStan, over the catalogue's ``model.stan`` files.

The same programs as the ``stan`` (PyStan) backend, run as CmdStan executables: a run of both shows
what PyStan's HTTP layer costs.

* CmdStan is looked for in ``$CMDSTAN``, then cmdstanpy's default ``~/.cmdstan/cmdstan-*``, then the
  harness cache's offline build ``$PPL_HARNESS_CACHE/cmdstan/cmdstan-*`` (made by ``.ci/cmdstan.sh``
  from httpstan's Stan sources, since CmdStan cannot be downloaded everywhere). cmdstanpy reads the
  install from ``os.environ["CMDSTAN"]``, so each cmdstanpy call sees the one found here and the
  variable is put back as it was afterwards.
* Compile: executables are cached in ``$PPL_HARNESS_CACHE/stan/cmdstan/<model>/`` next to a copy of the
  program, rebuilt when the program or the CmdStan install changes; a lock keeps two processes from
  building the same model at once. ``compile`` seconds are cmdstanpy's ``CmdStanModel`` (stanc + C++
  build, or the up-to-date check on a cache hit).
* Sample: all chains in one ``sample`` call, ``parallel_chains`` capped at the cell's core budget.
  Warm-up and sampling seconds are Stan's own per-chain "Elapsed Time" from the CSV comments, summed
  over chains. Draws and log densities are written with ``sig_figs=18`` (CmdStan's default of 6
  significant digits would round them).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.backends import _stan
from harness.backends._stan import (
    cache_dir,
    elapsed_seconds,
    file_lock,
    harness_cache,
    stan_program,
    to_stan_data,
    to_stan_point,
)
from harness.backends.base import Capabilities, Compiled, Fit
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="cmdstanpy", family=_stan.FAMILY, requires=("cmdstanpy",), packages=("cmdstanpy",), extra="cmdstanpy",
    sbc_replicates=_stan.SBC_REPLICATES,
    builds_program=True,  # a C++ build per model (tests/helpers.py: which builds every test run makes)
)

SIG_FIGS = 18  # CmdStan's maximum; 17 significant digits round-trip a double
_EXE = "model.exe" if os.name == "nt" else "model"


def worker_env(cores: int, device: str) -> dict[str, str]:
    return _stan.worker_env(cores, device)


# ---------------------------------------------------------------- finding CmdStan


def _is_cmdstan(path: Path, need_main: bool = False) -> bool:
    """A CmdStan directory: makefile and stanc (and, for a harness-cache build, its main.o: a build in
    progress is not usable yet)."""
    stanc = path / "bin" / ("stanc.exe" if os.name == "nt" else "stanc")
    ok = (path / "makefile").is_file() and stanc.is_file()
    return ok and (not need_main or (path / "src" / "cmdstan" / "main.o").is_file())


def _version_key(path: Path) -> tuple:
    """Sort key of ``cmdstan-2.35.0`` / ``cmdstan-2.36.0-rc1`` (release after its candidates)."""
    match = re.fullmatch(r"cmdstan-(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?", path.name)
    if match is None:
        return (-1,)
    major, minor, patch, rc = match.groups()
    return (int(major), int(minor), int(patch), int(rc) if rc else 10**6)


def _latest(parent: Path, need_main: bool = False) -> Path | None:
    if not parent.is_dir():
        return None
    found = [p for p in parent.glob("cmdstan-*") if p.is_dir() and _is_cmdstan(p, need_main)]
    return max(found, key=_version_key) if found else None


def cmdstan_candidates() -> list[tuple[str, Path | None]]:
    """Where CmdStan is looked for, in order: (place, usable install there or None)."""
    env = os.environ.get("CMDSTAN")
    from_env = Path(env).expanduser() if env else None
    return [
        ("$CMDSTAN", from_env if from_env is not None and _is_cmdstan(from_env) else None),
        ("~/.cmdstan", _latest(Path.home() / ".cmdstan")),
        ("$PPL_HARNESS_CACHE/cmdstan", _latest(harness_cache() / "cmdstan", need_main=True)),
    ]


def find_cmdstan() -> Path | None:
    """The CmdStan install this backend uses, or None."""
    return next((path.resolve() for _, path in cmdstan_candidates() if path is not None), None)


def cmdstan_version(path: Path) -> str:
    text = (path / "makefile").read_text(errors="replace")
    match = re.search(r"^CMDSTAN_VERSION\s*:=\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else path.name.removeprefix("cmdstan-")


def unavailable_reason() -> str | None:
    if find_cmdstan() is not None:
        return None
    env = os.environ.get("CMDSTAN")
    bad_env = f" ($CMDSTAN={env} is not a built CmdStan directory)" if env else ""
    return (
        f"no CmdStan install found in $CMDSTAN, ~/.cmdstan or {harness_cache() / 'cmdstan'}{bad_env}; "
        "install one with `python -m cmdstanpy.install_cmdstan` (needs internet), or build one offline with "
        "`nox -s cmdstan` where an offline CmdStan kit is available"
    )


def _require_cmdstan() -> Path:
    path = find_cmdstan()
    if path is None:
        raise RuntimeError(unavailable_reason())
    return path


@contextlib.contextmanager
def _using(cmdstan: Path):
    """cmdstanpy reads the install from ``os.environ["CMDSTAN"]`` (and writes it there): scope it to the call."""
    saved = os.environ.get("CMDSTAN")
    os.environ["CMDSTAN"] = str(cmdstan)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CMDSTAN", None)
        else:
            os.environ["CMDSTAN"] = saved


@contextlib.contextmanager
def strict_support():
    """A point outside the support is refused by CmdStan (an error): expected there, so not logged."""
    import logging

    logger = logging.getLogger("cmdstanpy")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def versions() -> dict[str, str]:
    import cmdstanpy

    out = {"cmdstanpy": cmdstanpy.__version__}
    path = find_cmdstan()
    if path is not None:
        out["cmdstan"] = cmdstan_version(path)
    return out


def describe() -> str:
    path = find_cmdstan()
    if path is None:
        return "cmdstanpy: no CmdStan found"
    return f"cmdstanpy + CmdStan {cmdstan_version(path)} ({path})"


# ---------------------------------------------------------------- protocol


def _work_dir(spec: ModelSpec) -> Path:
    return cache_dir() / "cmdstan" / spec.name


def _model(spec: ModelSpec, cmdstan: Path):
    """(CmdStanModel, seconds, cache hit) for the cached executable of ``spec``'s program."""
    import cmdstanpy

    work = _work_dir(spec)
    work.mkdir(parents=True, exist_ok=True)
    with file_lock(work / "compile.lock", exclusive=True):
        src, target, exe, stamp = stan_program(spec), work / "model.stan", work / _EXE, work / "cmdstan.txt"
        if not target.exists() or target.read_text() != src.read_text():
            shutil.copyfile(src, target)
        built_by = stamp.read_text().strip() if stamp.exists() else None
        if built_by != str(cmdstan):  # built by another CmdStan (or unknown): rebuild
            with contextlib.suppress(FileNotFoundError):
                exe.unlink()
        cached = exe.exists() and exe.stat().st_mtime >= target.stat().st_mtime
        start = time.perf_counter()
        with _using(cmdstan):
            model = cmdstanpy.CmdStanModel(stan_file=str(target))
        seconds = time.perf_counter() - start
        stamp.write_text(str(cmdstan))
    return model, seconds, cached


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    cmdstan = _require_cmdstan()
    model, seconds, cached = _model(spec, cmdstan)
    info = {"stan_driver": "cmdstanpy", "cmdstan": cmdstan_version(cmdstan)}
    return Compiled({"spec": spec, "model": model, "cmdstan": cmdstan}, seconds, cache_hit=cached, info=info)


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    spec, model, cmdstan = compiled.handle["spec"], compiled.handle["model"], compiled.handle["cmdstan"]
    parallel = min(settings.cores, settings.chains)
    runs = _work_dir(spec) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    out_dir = tempfile.mkdtemp(prefix="fit-", dir=runs)  # one folder per call: concurrent runs never collide
    try:
        start = time.perf_counter()
        with _using(cmdstan):
            fit = model.sample(
                data=to_stan_data(spec, data),
                chains=settings.chains,
                parallel_chains=parallel,
                iter_warmup=settings.warmup,
                iter_sampling=settings.draws,
                adapt_delta=settings.target_accept,
                max_treedepth=settings.max_treedepth,
                seed=int(seed) % 2**32,
                output_dir=out_dir,
                sig_figs=SIG_FIGS,
                show_progress=False,
                show_console=False,
            )
        wall = time.perf_counter() - start
        times = [elapsed_seconds(Path(f).read_text()) for f in fit.runset.csv_files]
        draws = {}
        for p in spec.params:
            values = np.asarray(fit.stan_variable(p.name), dtype=np.float64)  # (chain*draw, *shape)
            draws[p.name] = values.reshape((settings.chains, settings.draws) + p.resolve_shape(data))
        method = fit.method_variables()  # {name: (draw, chain)}
        diverging = np.asarray(method["divergent__"]).T.astype(bool)
        n_steps = np.asarray(method["n_leapfrog__"]).T.astype(np.int64)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    in_stan = sum(w + s for w, s in times) if parallel == 1 else max(w + s for w, s in times)
    return Fit(
        draws=draws,
        diverging=diverging,
        n_steps=n_steps,
        warmup_s=sum(t[0] for t in times),
        sampling_s=sum(t[1] for t in times),
        info={
            "chain_method": "parallel" if parallel > 1 else "sequential",
            "parallel_chains": parallel,
            "request_overhead_s": wall - in_stan,  # process start, data/CSV I/O, cmdstanpy parsing
            "sampler": "stan_nuts_diag_e_adapt",
        },
    )


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian; Stan drops constants, which cancel in differences)."""
    cmdstan = _require_cmdstan()
    model, _, _ = _model(spec, cmdstan)
    stan_data = to_stan_data(spec, data)
    with _using(cmdstan):
        return np.array([
            float(model.log_prob(to_stan_point(p), data=stan_data, jacobian=False, sig_figs=SIG_FIGS)["lp__"].iloc[0])
            for p in points
        ])


def evaluated_points(spec: ModelSpec, data: Data, points: list[dict]) -> list[dict]:
    """Equivalence hook: where ``log_density`` and the potential evaluate, given ``points``. CmdStan's
    ``log_prob`` unconstrains a constrained point and constrains it again (a value can move by a rounding
    error); it has no method that reports the result, so this is that round trip through the declared
    supports' Stan transforms (``harness.unconstrained``), which the potential's ``to_unconstrained``
    already is."""
    from harness.unconstrained import constrain

    return [constrain(spec, data, _stan.spec_unconstrain(spec, data, p))[0] for p in points]


class CmdStanPotential:
    """The sampler's potential of the CmdStan executable (equivalence hook).

    The executable's ``log_prob`` method at unconstrained points (``unconstrained_params``, every point
    one process per point, ``jacobian=1``, ``sig_figs=18``) gives Stan's log density with the
    Jacobian and its gradient; negated. CmdStan has no "unconstrain" method, so ``to_unconstrained`` is
    Stan's transform of the supports the spec declares (``own_transform = False``); a program whose
    bounds differ is still caught, as its potential at the shared point differs.
    """

    own_transform = False

    def __init__(self, spec: ModelSpec, data: Data):
        self.spec, self.data = spec, data
        self.cmdstan = _require_cmdstan()
        self.model, _, _ = _model(spec, self.cmdstan)
        self.names = tuple(p.name for p in spec.params)
        self.shapes = tuple(p.resolve_shape(data) for p in spec.params)
        self.index = self._layout()

    def to_unconstrained(self, point: dict) -> np.ndarray:
        return _stan.spec_unconstrain(self.spec, self.data, point)

    def _run(self, stan_us: np.ndarray):  # one point
        """CmdStan's ``log_prob`` at one unconstrained point ``stan_u`` (Stan's order): the output table."""
        import json
        import subprocess

        import pandas as pd

        work = Path(tempfile.mkdtemp(prefix="log-prob-"))
        try:
            (work / "data.json").write_text(json.dumps(to_stan_data(self.spec, self.data)))
            (work / "u.json").write_text(json.dumps({"params_r": np.ravel(stan_us).tolist()}))
            cmd = [str(self.model.exe_file), "log_prob", f"unconstrained_params={work / 'u.json'}", "jacobian=1",
                   "data", f"file={work / 'data.json'}", "output", f"file={work / 'out.csv'}", f"sig_figs={SIG_FIGS}"]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode:
                raise RuntimeError(f"CmdStan log_prob failed: {(proc.stderr or proc.stdout)[-1000:]}")
            return pd.read_csv(work / "out.csv", comment="#")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _layout(self) -> np.ndarray:
        """Stan's parameter order, read from the gradient columns (``g_mu``, ``g_theta.1``, ...) of one call."""
        d = self.spec.n_unconstrained(self.data)
        native: list[tuple[str, int]] = []
        for c in (c for c in self._run(np.zeros(d)).columns if c.startswith("g_")):
            name = c[2:].split(".")[0]
            if native and native[-1][0] == name:
                native[-1] = (name, native[-1][1] + 1)
            else:
                native.append((name, 1))
        return _stan.stan_order(self.spec, self.data, native)

    def value_and_grad_batch(self, us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values (n,), gradients (n, d)) at the rows of ``us`` (harness layout)."""
        import pandas as pd

        us = np.atleast_2d(np.asarray(us, dtype=np.float64))
        stan_us = np.empty_like(us)
        stan_us[:, self.index] = us
        # one process per point: CmdStan 2.35 misreads a JSON list of several ``params_r`` vectors
        table = pd.concat([self._run(row) for row in stan_us], ignore_index=True)
        grads = table[[c for c in table.columns if c.startswith("g_")]].to_numpy(dtype=np.float64)
        return -table["lp__"].to_numpy(dtype=np.float64), -grads[:, self.index]

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        values, grads = self.value_and_grad_batch(np.asarray(u)[None, :])
        return float(values[0]), grads[0]


def potential(spec: ModelSpec, data: Data) -> CmdStanPotential:
    """Equivalence hook (see ``harness.equivalence``): CmdStan's potential for ``data``."""
    return CmdStanPotential(spec, data)
