"""Are the parallel implementations the same model? Six checks per model, backend and data size.

Every catalogue model is checked at its default size and, for size-scalable models
(``ModelSpec.size_defaults``), at one other size (every size argument divided by 4, at least 2).
All arithmetic is float64 (JAX x64 on, torch float64).

Checks (the ``check`` column names the one that failed):

``density``      The constrained joint log density (no Jacobian; each backend's ``log_density``) at
                 ``n_points`` prior draws: ``lp[i] - lp[0]`` of each backend, pairwise and against
                 the scipy reference in ``model.py`` (the only independent implementation).
``support``      For every bounded parameter: points just outside the declared support
                 (``bound -/+ 1e-6 * scale``, all elements of the parameter) must be refused by every
                 backend: ``-inf``/``nan`` or an exception (NumPyro's out-of-support warning, turned on
                 here with ``numpyro.validation_enabled``, counts as a refusal); a finite value fails.
                 Points just inside (``bound +/- 1e-4 * scale``) must agree with the reference like
                 ``density``. ``scale`` is ``b - a`` for ``interval(a, b)``, ``max(1, |a|)`` for ``positive``.
``transform``    What the sampler's unconstraining maps give: each backend's own ``to_unconstrained``
                 of two prior draws equals the reference map (identity for real, log for positive,
                 ``log(x - a) - log(b - x)`` for ``interval(a, b)``): ``|du| <= 1e-9 * (1 + |u|)``.
                 A changed bound moves u (0.1% of a bound moves it ~1e-3). Backends whose hook cannot
                 ask the library (CmdStan: ``own_transform = False``) get no transform row.
``potential``    What the sampler samples: each backend's potential (minus the log density on the
                 unconstrained scale, with the log-Jacobian, on the data the sampler gets) at shared
                 unconstrained points ``u0`` (a prior draw), ``u0 + e_i`` for every coordinate ``i``
                 (one coordinate changed at a time, so a wrong scale or a missing Jacobian in one
                 coordinate cannot cancel) and ``u1`` (another prior draw). ``V(u_k) - V(u0)`` is
                 compared pairwise and against the reference potential
                 ``-(log_prior + log_likelihood)(x(u)) - log|dx/du|``.
``gradient``     The potential's gradient at the same points, pairwise between backends (gradients
                 carry no constants, and a scale error changes them; compared coordinate by coordinate).
``fd_gradient``  Each backend's gradient at ``u0`` and ``u1`` against central finite differences of
                 the reference potential (Richardson-extrapolated, steps ``1e-3 (1 + |u_i|)`` and half).

Tolerances (per compared number, absolute plus relative to the magnitudes that enter it):

* density, support, potential: ``|dA - dB| <= 1e-9 + 1e-11 * M`` with ``M`` the largest ``|lp|`` (or
  ``|V|``) of the four values entering the two differences. Float64 sums of N terms err by about
  ``1e-16 * sqrt(N) * M``, far below. A 0.1% change of a prior scale s changes
  ``V(u0 + e_i) - V(u0)`` by ``0.002 * (x1^2 - x0^2) / (2 s^2)`` (1e-4 for normal_mean's mu at 10, 6e-6
  at 0.3) against a tolerance of 1e-9 + 1e-11 * (1e3..5e4); a likelihood scale, a missing term or
  a missing Jacobian (``V`` changes by ``u_i`` steps of 1) change it by far more.
* gradient: ``|gA - gB| <= 1e-8 + 1e-9 * max(|gA|, |gB|)``, per coordinate. A 0.1% prior scale
  change moves ``dV/dx`` by ``0.002 x / s^2`` against gradients dominated by the likelihood
  (relative 2e-8 .. 2e-6, i.e. 20x .. 2000x the tolerance).
* fd_gradient: ``1e-6 * (1 + |g|) + 10 * |D(h) - D(h/2)| + 1e3 * eps * |V| / h`` (FD truncation and
  round-off): catches gradients inconsistent with the density, not 0.1% changes.
* transform: as above.

The hook. A backend module may define ``potential(spec, data) -> Potential`` (optional, looked up with
``getattr``): an object with ``names``/``shapes`` (the layout: ``spec.params`` order, each raveled, C
order), ``to_unconstrained(point) -> (d,)``, ``value_and_grad(u) -> (float, (d,))`` (the sampler's
potential and its gradient, any additive constant) and optionally ``value_and_grad_batch(U (n, d))``
and ``own_transform`` (False when ``to_unconstrained`` is not the library's own map). It is written once
per family (``_pymc.potential``, ``_jax.numpyro_potential``, ``pyro.potential``, ``stan.potential`` /
``stan_cmdstanpy.potential``); backends re-exporting the same function share one evaluation. Backends
without it get the density and support checks only.

Limits: the PyMC family's potential is pytensor's ``compile_logp``/``compile_dlogp`` of the model
every PyMC-family backend samples; nutpie's Numba and pymc-numpyro/pymc-blackjax's JAX translations of
that graph are not evaluated separately. Pyro's potential is evaluated without the JIT (the JIT traces
the same function). A model with more than a few dozen unconstrained coordinates would make the
``u0 + e_i`` points many; the catalogue's largest has 11.

Mutation test: ``tests/test_equivalence_mutants.py`` builds wrong copies of catalogue models (prior
scale x1.001, a Uniform bound 100 -> 1000, likelihood scale x1.001, a prior term replaced by a flat
one, a log transform without its Jacobian, and, marked slow, a Stan bound 100 -> 1000) and requires
each to be flagged while the unmutated backend still passes.

Output: one row per model x pair (backend or ``reference``) with ``status`` (pass, fail, error),
``check`` (the failing checks, comma-separated; empty when passing), ``max_abs_diff`` and
``tolerance`` of the worst compared number (largest ratio), and ``error`` (which size and check, or
the exception). ``check_long`` gives every (size, check) row; ``--detail FILE`` writes it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from harness.backends import get_backend
from harness.catalogue import get_model

REFERENCE = "reference"
RTOL = 1e-11  # density, support, potential: relative to the magnitude of the values
ATOL = 1e-9
GRAD_RTOL = 1e-9
GRAD_ATOL = 1e-8
U_RTOL = 1e-9  # transform
FD_RTOL = 1e-6
STEP = 1.0  # coordinate step of the potential points (unconstrained scale)
OUTSIDE = 1e-6  # support: outside by this fraction of the scale
INSIDE = 1e-4  # support: inside by this fraction of the scale
CHECKS = ("density", "support", "transform", "potential", "gradient", "fd_gradient")
COLUMNS = ["model", "a", "b", "status", "check", "max_abs_diff", "tolerance", "error"]


# ---------------------------------------------------------------- points and reference transforms


def prior_points(spec, data, n_points: int, seed: int) -> list[dict]:
    """``n_points`` draws from the numpy prior sampler (fixed seed)."""
    rng = np.random.default_rng(seed)
    return [{k: np.asarray(v, dtype=np.float64) for k, v in spec.sample_prior(rng, data).items()}
            for _ in range(n_points)]


def bounds(support: str) -> tuple[float, float]:
    """(lower, upper) of a ``Param.support`` string."""
    if support == "real":
        return -np.inf, np.inf
    if support == "positive":
        return 0.0, np.inf
    if support.startswith("interval(") and support.endswith(")"):
        a, b = (float(v) for v in support[len("interval("):-1].split(","))
        return a, b
    raise ValueError(f"unknown support {support!r}")


def layout(spec, data) -> list[tuple[str, tuple[int, ...], str]]:
    return [(p.name, p.resolve_shape(data), p.support) for p in spec.params]


def unconstrain(spec, data, point: dict) -> np.ndarray:
    """The reference unconstraining map, flat in ``spec.params`` order."""
    parts = []
    for name, shape, support in layout(spec, data):
        x = np.asarray(point[name], dtype=np.float64).reshape(shape).ravel()
        a, b = bounds(support)
        if np.isfinite(a) and np.isfinite(b):
            x = np.log(x - a) - np.log(b - x)
        elif np.isfinite(a):
            x = np.log(x - a)
        parts.append(x)
    return np.concatenate(parts)


def constrain(spec, data, u: np.ndarray) -> tuple[dict, float]:
    """(constrained point, log |dx/du|) of the reference map."""
    point, logdet, i = {}, 0.0, 0
    for name, shape, support in layout(spec, data):
        k = int(np.prod(shape, dtype=int))
        v = np.asarray(u[i:i + k], dtype=np.float64)
        i += k
        a, b = bounds(support)
        if np.isfinite(a) and np.isfinite(b):
            s = 1.0 / (1.0 + np.exp(-v))
            x = a + (b - a) * s
            logdet += float(np.sum(np.log(b - a) - np.logaddexp(0.0, -v) - np.logaddexp(0.0, v)))
        elif np.isfinite(a):
            x = a + np.exp(v)
            logdet += float(np.sum(v))
        else:
            x = v
        point[name] = x.reshape(shape)
    return point, logdet


def reference_potential(spec, data, u: np.ndarray) -> float:
    point, logdet = constrain(spec, data, u)
    return -(spec.log_density(point, data) + logdet)


def other_size(spec) -> dict | None:
    """The second size checked: every size argument divided by 4 (at least 2); None for fixed-size models."""
    if not spec.size_defaults:
        return None
    return {k: max(2, int(v) // 4) for k, v in spec.size_defaults.items()}


def size_label(spec, size: dict | None) -> str:
    values = {**spec.size_defaults, **(size or {})}
    return ",".join(f"{k}={v}" for k, v in values.items()) or "fixed"


# ---------------------------------------------------------------- comparisons


def _row(check, a, b, diff, tol, ok, error="", size=""):
    return {"size": size, "check": check, "a": a, "b": b, "max_abs_diff": diff, "tolerance": tol,
            "status": "pass" if ok else "fail", "error": error}


def _error_row(check, a, b, text, size=""):
    return {"size": size, "check": check, "a": a, "b": b, "max_abs_diff": np.nan, "tolerance": np.nan,
            "status": "error", "error": text[:500]}


def _worst(diff: np.ndarray, tol: np.ndarray) -> tuple[float, float, bool]:
    diff, tol = np.ravel(diff), np.ravel(tol)
    if diff.size == 0:
        return 0.0, np.nan, True
    bad = ~np.isfinite(diff)
    ratio = np.where(bad, np.inf, diff / tol)
    k = int(np.argmax(ratio))
    return float(diff[k]), float(tol[k]), bool(not bad.any() and np.all(diff <= tol))


def compare_differences(va, vb, rtol: float = RTOL, atol: float = ATOL) -> tuple[float, float, bool]:
    """``va - va[0]`` against ``vb - vb[0]``: per point ``atol + rtol * max |value|`` of the four values."""
    va, vb = np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)
    if not (np.all(np.isfinite(va)) and np.all(np.isfinite(vb))):
        return np.inf, np.nan, False
    da, db = va - va[0], vb - vb[0]
    mag = np.max(np.abs(np.stack([va, vb, np.full_like(va, va[0]), np.full_like(vb, vb[0])])), axis=0)
    return _worst(np.abs(da - db), atol + rtol * mag)


def compare(values: dict, rtol: float = RTOL, atol: float = ATOL, check: str = "density") -> pd.DataFrame:
    """Pairwise agreement of ``lp - lp[0]``: columns a, b, max_abs_diff, tolerance, status, error, check."""
    rows = []
    for a, b in itertools.combinations(values, 2):
        va, vb = values[a], values[b]
        if isinstance(va, str) or isinstance(vb, str):
            rows.append(_error_row(check, a, b, va if isinstance(va, str) else vb))
        else:
            rows.append(_row(check, a, b, *compare_differences(va, vb, rtol, atol)))
    return pd.DataFrame(rows).drop(columns="size")


def _grad_compare(ga, gb):
    ga, gb = np.asarray(ga), np.asarray(gb)
    if not (np.all(np.isfinite(ga)) and np.all(np.isfinite(gb))):
        return np.inf, np.nan, False
    return _worst(np.abs(ga - gb), GRAD_ATOL + GRAD_RTOL * np.maximum(np.abs(ga), np.abs(gb)))


def _trace(err: Exception) -> str:
    return f"{type(err).__name__}: {err}\n{traceback.format_exc()[-1500:]}"


# ---------------------------------------------------------------- evaluations


def log_densities(model: str, backends: list[str], n_points: int = 5, seed: int = 0,
                  size: dict | None = None) -> dict[str, np.ndarray]:
    """{backend or 'reference': (n_points,) joint log densities, or the error text}."""
    spec = get_model(model)
    data = spec.data(**(size or {}))
    points = prior_points(spec, data, n_points, seed)
    out: dict = {REFERENCE: np.array([spec.log_density(p, data) for p in points])}
    for name in backends:
        try:
            out[name] = np.asarray(get_backend(name).log_density(spec, data, points), dtype=np.float64)
        except Exception as err:  # recorded per backend; the other pairs are still compared
            out[name] = _trace(err)
    return out


@contextlib.contextmanager
def strict_supports(module=None):
    """Out-of-support values refused everywhere: out-of-support warnings become errors, and a backend
    whose library validates nothing by default switches validation on in its optional
    ``strict_support()`` context manager (PyMC returns -inf; Pyro/torch and Stan raise)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("error", message=".*[Oo]ut-of-support.*")
        hook = getattr(module, "strict_support", None)
        if hook is not None:
            stack.enter_context(hook())
        yield


def _refused(module, spec, data, point) -> tuple[bool, str]:
    """(True, how) when the backend refuses a constrained point (-inf, nan or an exception)."""
    try:
        with strict_supports(module):
            value = float(np.asarray(module.log_density(spec, data, [point]))[0])
    except Exception as err:  # a clear error is a refusal
        return True, f"{type(err).__name__}"
    return (not np.isfinite(value) or value == -np.inf), repr(value)


def _finite_outside(module, spec, data, outside: list[tuple[str, dict]]) -> list[str]:
    """Labels of the outside points the backend does not refuse. One call for all of them first (PyMC
    compiles once and returns -inf); point by point when that call raises (Stan, Pyro, NumPyro)."""
    try:
        with strict_supports(module):
            values = np.asarray(module.log_density(spec, data, [p for _, p in outside]), dtype=np.float64)
        return [f"{label} -> {v!r}" for (label, _), v in zip(outside, values) if np.isfinite(v)]
    except Exception:
        pass
    finite = []
    for label, point in outside:
        refused, how = _refused(module, spec, data, point)
        if not refused:
            finite.append(f"{label} -> {how}")
    return finite


def support_points(spec, data, base: dict) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """([(label, point just outside)], [(label, point just inside)]) for every bounded parameter."""
    outside: list[tuple[str, dict]] = []
    inside: list[tuple[str, dict]] = []
    for name, shape, support in layout(spec, data):
        a, b = bounds(support)
        if not (np.isfinite(a) or np.isfinite(b)):
            continue
        scale = (b - a) if np.isfinite(b) else max(1.0, abs(a))
        for bound, sign in ((a, -1.0), (b, 1.0)):
            if np.isfinite(bound):
                for offset, out in ((OUTSIDE, outside), (-INSIDE, inside)):
                    point = {k: np.array(v, copy=True) for k, v in base.items()}
                    point[name] = np.full(shape, bound + sign * offset * scale)
                    out.append((f"{name}={point[name].ravel()[0]:.9g}", point))
    return outside, inside


def support_rows(spec, data, backends: list[str], base: dict, size: str) -> list[dict]:
    outside, inside = support_points(spec, data, base)
    if not outside:
        return []
    ref_inside = np.array([spec.log_density(base, data)] + [spec.log_density(p, data) for _, p in inside])
    ref_bad = [label for label, p in outside if np.isfinite(spec.log_density(p, data))]
    rows = []
    for name in backends:
        try:
            module = get_backend(name)
            finite = _finite_outside(module, spec, data, outside)
            with strict_supports(module):
                values = np.asarray(module.log_density(spec, data, [base] + [p for _, p in inside]), dtype=np.float64)
        except Exception as err:
            rows.append(_error_row("support", REFERENCE, name, _trace(err), size))
            continue
        diff, tol, ok = compare_differences(ref_inside, values)
        text = []
        if finite:
            text.append("finite log density outside the declared support: " + "; ".join(finite))
        if ref_bad:
            text.append("the scipy reference itself is finite outside: " + ", ".join(ref_bad))
        if not ok:
            text.append("points just inside the support disagree with the reference")
        rows.append(_row("support", REFERENCE, name, np.inf if finite else diff, tol,
                         ok and not finite and not ref_bad, "; ".join(text), size))
    return rows


def potential_points(u0: np.ndarray, u1: np.ndarray) -> np.ndarray:
    """[u0, u0 + STEP e_i for every i, u1]: (d + 2, d)."""
    d = len(u0)
    return np.vstack([u0[None, :], u0[None, :] + STEP * np.eye(d), u1[None, :]])


def evaluate(potential, us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    batch = getattr(potential, "value_and_grad_batch", None)
    if batch is not None:
        values, grads = batch(us)
        return np.asarray(values, dtype=np.float64), np.asarray(grads, dtype=np.float64)
    pairs = [potential.value_and_grad(u) for u in us]
    return np.array([v for v, _ in pairs], dtype=np.float64), np.array([g for _, g in pairs], dtype=np.float64)


def fd_gradient(f, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(Richardson central-difference gradient of ``f`` at ``u``, its error bound per coordinate, max step)."""
    g, err = np.empty_like(u), np.empty_like(u)
    v0 = abs(f(u))
    hs = 1e-3 * (1.0 + np.abs(u))
    for i, h in enumerate(hs):
        def central(step):
            e = np.zeros_like(u)
            e[i] = step
            return (f(u + e) - f(u - e)) / (2 * step)

        d1, d2 = central(h), central(h / 2)
        g[i] = (4 * d2 - d1) / 3
        err[i] = 10 * abs(d2 - d1) + 1e3 * np.finfo(float).eps * v0 / (h / 2)
    return g, err, float(hs.max())


def potential_rows(spec, data, backends: list[str], points: list[dict], size: str) -> tuple[list[dict], list[str]]:
    """transform, potential, gradient and fd_gradient rows, and the backends without the hook."""
    rows, skipped = [], []
    u0, u1 = unconstrain(spec, data, points[0]), unconstrain(spec, data, points[1])
    us = potential_points(u0, u1)
    ref_v = np.array([reference_potential(spec, data, u) for u in us])
    fds = [fd_gradient(lambda u: reference_potential(spec, data, u), u) for u in (u0, u1)]
    results: dict[str, tuple | str] = {}
    shared: dict[int, tuple | str] = {}
    for name in backends:
        hook = getattr(get_backend(name), "potential", None)
        if hook is None:
            skipped.append(name)
            continue
        key = id(hook)
        if key not in shared:  # one evaluation per family (backends re-exporting one hook)
            try:
                pot = hook(spec, data)
                own = [pot.to_unconstrained(p) for p in points[:2]] if getattr(pot, "own_transform", True) else None
                values, grads = evaluate(pot, us)
                shared[key] = (own, values, grads)
            except Exception as err:
                shared[key] = _trace(err)
        results[name] = shared[key]
    for name, res in results.items():
        if isinstance(res, str):
            rows += [_error_row(c, REFERENCE, name, res, size) for c in ("transform", "potential", "fd_gradient")]
            continue
        own, values, grads = res
        if own is not None:
            refs = np.concatenate([u0, u1])
            got = np.concatenate(own)
            diff, tol, ok = _worst(np.abs(got - refs), U_RTOL * (1 + np.abs(refs)))
            rows.append(_row("transform", REFERENCE, name, diff, tol, ok,
                             "" if ok else "unconstrained point differs from the declared support's map", size))
        diff, tol, ok = compare_differences(ref_v, values)
        rows.append(_row("potential", REFERENCE, name, diff, tol, ok, "" if ok else _which(ref_v, values, spec, data), size))
        fd_diff, fd_tol = [], []
        for (g_fd, fd_err, _), g in zip(fds, (grads[0], grads[-1])):
            fd_diff.append(np.abs(g - g_fd))
            fd_tol.append(FD_RTOL * (1 + np.abs(g_fd)) + fd_err)
        diff, tol, ok = _worst(np.concatenate(fd_diff), np.concatenate(fd_tol))
        rows.append(_row("fd_gradient", REFERENCE, name, diff, tol, ok,
                         "" if ok else "gradient differs from finite differences of the reference potential", size))
    for a, b in itertools.combinations(results, 2):
        ra, rb = results[a], results[b]
        if isinstance(ra, str) or isinstance(rb, str):
            rows += [_error_row(c, a, b, ra if isinstance(ra, str) else rb, size) for c in ("potential", "gradient")]
            continue
        rows.append(_row("potential", a, b, *compare_differences(ra[1], rb[1]), size=size))
        diff, tol, ok = _grad_compare(ra[2], rb[2])
        rows.append(_row("gradient", a, b, diff, tol, ok, "" if ok else "gradients differ", size))
    return rows, skipped


def _which(ref_v, values, spec, data) -> str:
    """Which coordinate step disagrees most (names the parameter)."""
    names = [f"{n}[{i}]" if shape else n for n, shape, _ in layout(spec, data)
             for i in range(int(np.prod(shape, dtype=int)))]
    dd = np.abs((values - values[0]) - (ref_v - ref_v[0]))
    k = int(np.nanargmax(np.where(np.isfinite(dd), dd, np.inf)))
    where = "u0" if k == 0 else ("the second prior point" if k == len(values) - 1 else f"u0 + e({names[k - 1]})")
    return f"potential differences disagree, most at {where}"


# ---------------------------------------------------------------- tables


def check_long(models: list[str], backends: list[str], n_points: int = 5, seed: int = 0,
               checks: tuple[str, ...] = CHECKS) -> pd.DataFrame:
    """Every (model, size, check, pair) row."""
    rows = []
    for model in models:
        spec = get_model(model)
        for size in [None] + ([other_size(spec)] if other_size(spec) else []):
            label = size_label(spec, size)
            data = spec.data(**(size or {}))
            points = prior_points(spec, data, max(n_points, 2), seed)
            model_rows = []
            if "density" in checks:
                table = compare(log_densities(model, backends, n_points, seed, size))
                model_rows += [{**r, "size": label} for r in table.to_dict("records")]
            if "support" in checks:
                model_rows += support_rows(spec, data, backends, points[0], label)
            if set(checks) & {"transform", "potential", "gradient", "fd_gradient"}:
                extra, _ = potential_rows(spec, data, backends, points, label)
                model_rows += [r for r in extra if r["check"] in checks]
            rows += [{"model": model, **r} for r in model_rows]
    return pd.DataFrame(rows, columns=["model", "size", "check", "a", "b", "status", "max_abs_diff", "tolerance", "error"])


def summarise(long: pd.DataFrame) -> pd.DataFrame:
    """One row per model x pair: pass only when every check at every size passed."""
    rows = []
    for (model, a, b), group in long.groupby(["model", "a", "b"], sort=False):
        bad = group[group["status"] != "pass"]
        pick = bad if not bad.empty else group
        ratio = (pick["max_abs_diff"] / pick["tolerance"]).fillna(np.inf)
        worst = pick.iloc[int(np.argmax(ratio.to_numpy()))]  # the first worst row (a group is never empty)
        status = "pass" if bad.empty else ("error" if (bad["status"] == "error").all() else "fail")
        errors = [f"{r.check!s} at {r.size!s}: {r.error or f'max |diff| {r.max_abs_diff:.3g} > {r.tolerance:.3g}'!s}"
                  for r in bad.itertuples()]
        rows.append({"model": model, "a": a, "b": b, "status": status,
                     "check": ",".join(dict.fromkeys(bad["check"])),
                     "max_abs_diff": worst["max_abs_diff"], "tolerance": worst["tolerance"],
                     "error": " | ".join(errors)[:2000]})
    return pd.DataFrame(rows, columns=COLUMNS)


def check(models: list[str], backends: list[str], n_points: int = 5, seed: int = 0) -> pd.DataFrame:
    """Equivalence table for every model: one row per pair (backends and the scipy reference)."""
    return summarise(check_long(models, backends, n_points, seed))


def backend_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per model x backend: 'pass' when the backend agrees with the scipy reference.

    The one rule is ``harness.loaders.equivalence_verdicts`` (judged against the reference, so one
    broken backend does not fail the others through the pairs they share with it); this is its table.
    """
    from harness.loaders import equivalence_verdicts

    rows = [{"model": m, "backend": b, "equivalence": verdict}
            for (m, b), (verdict, _) in equivalence_verdicts(table).items()]
    return pd.DataFrame(rows, columns=["model", "backend", "equivalence"])


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.equivalence --models a,b --backends x,y --out FILE.csv`` (used by the runner)."""
    parser = argparse.ArgumentParser(prog="python -m harness.equivalence")
    parser.add_argument("--models", required=True)
    parser.add_argument("--backends", required=True)
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--detail", type=Path, help="also write every (size, check, pair) row here")
    args = parser.parse_args(argv)
    long = check_long(args.models.split(","), args.backends.split(","), args.points, args.seed)
    table = summarise(long)
    from harness.results import write_csv_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(args.out, table)
    if args.detail:
        args.detail.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(args.detail, long)
    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        print(table.to_string(index=False))
    return 0 if (table["status"] == "pass").all() else 1


if __name__ == "__main__":
    sys.exit(main())
