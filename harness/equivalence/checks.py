"""The six equivalence checks, their tolerances and their tables (see ``docs/equivalence.md``).

Per model, at its default size and, for size-scalable models, one other (every size argument / 4):

``density``      constrained log density (no Jacobian; each backend's ``log_density``) at start points
``support``      points just outside each declared support refused, points just inside agreeing
``transform``    each backend's own unconstrained map equals the declared support's (elementwise supports)
``potential``    the sampler's potential, as the constrained potential W(x) (``potentials``), at x0,
                 x0 stepped along each chosen coordinate, and x1
``gradient``     the potentials' gradients, pairwise, on the blocks where two backends use one transform
``fd_gradient``  each potential's gradient against central differences of its own values

The reference is the model's numpy density (``log_prior + log_likelihood``) where it has one, else
the Stan program through the first available Stan backend (``reference`` column). The numpy density is
evaluated where each backend evaluates (``evaluated_points``): Stan unconstrains every point it is given
and constrains it again, which can move a value by a rounding error, and a density that is steep enough
there (a prior draw at an extreme) changes by more than a rounding error of its value; the comparison
stays exact arithmetic against exact arithmetic at one point. A backend that
cannot run here gets one ``skipped`` row with the reason; one whose family the model does not bring
gets one ``not implemented`` row; every other backend is checked as usual.

A family with a declared known deviation (``ModelSpec.known_deviation``: a library bug with a bound
per observed value) has each of its values and gradient coordinates allowed ``per_observation x
n_observed`` from the exact one: every comparison adds that to its absolute tolerance once for each
such value it compares (``deviation_allowances``); comparisons of the other families are unchanged.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Mapping

import numpy as np
import pandas as pd

from harness.equivalence import points as pts
from harness.equivalence import potentials as pot

REFERENCE = "reference"
RTOL = 1e-11  # density, support, potential: relative to the magnitude of the values
ATOL = 1e-9
GRAD_RTOL = 1e-9
GRAD_ATOL = 1e-8
U_RTOL = 1e-9  # transform
FD_RTOL = 1e-6
FD_COORDS = 12  # coordinates per finite-difference gradient check
CHECKS = ("density", "support", "transform", "potential", "gradient", "fd_gradient")
STATUSES = ("pass", "fail", "error", "skipped", "not implemented")
LONG_COLUMNS = ["model", "size", "check", "a", "b", "status", "max_abs_diff", "tolerance", "error", "reference"]
COLUMNS = ["model", "a", "b", "status", "check", "max_abs_diff", "tolerance", "error", "reference"]


# ---------------------------------------------------------------- comparisons


def _row(check, a, b, diff, tol, ok, error="", size=""):
    return {"size": size, "check": check, "a": a, "b": b, "max_abs_diff": diff, "tolerance": tol,
            "status": "pass" if ok else "fail", "error": error}


def _status_row(check, a, b, status, text, size=""):
    return {"size": size, "check": check, "a": a, "b": b, "max_abs_diff": np.nan, "tolerance": np.nan,
            "status": status, "error": str(text)[:500]}


def _error_row(check, a, b, text, size=""):
    return _status_row(check, a, b, "error", text, size)


def _worst(diff: np.ndarray, tol: np.ndarray) -> tuple[float, float, bool]:
    diff, tol = np.ravel(diff), np.ravel(tol)
    if diff.size == 0:
        return 0.0, np.nan, True
    bad = ~np.isfinite(diff)
    ratio = np.where(bad, np.inf, diff / tol)
    k = int(np.argmax(ratio))
    return float(diff[k]), float(tol[k]), bool(not bad.any() and np.all(diff <= tol))


def compare_differences(va, vb, rtol: float = RTOL, atol: float = ATOL, extra=None) -> tuple[float, float, bool]:
    """``va - va[0]`` against ``vb - vb[0]``: per point ``atol + rtol * max |value|`` of the four values
    (plus ``extra``: a known error of the values, e.g. from numeric Jacobians)."""
    va, vb = np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)
    if not (np.all(np.isfinite(va)) and np.all(np.isfinite(vb))):
        return np.inf, np.nan, False
    da, db = va - va[0], vb - vb[0]
    mag = np.max(np.abs(np.stack([va, vb, np.full_like(va, va[0]), np.full_like(vb, vb[0])])), axis=0)
    tol = atol + rtol * mag
    if extra is not None:
        extra = np.asarray(extra, dtype=np.float64)
        tol = tol + extra + extra[0]
    return _worst(np.abs(da - db), tol)


def compare(values: dict, rtol: float = RTOL, atol: float = ATOL, check: str = "density",
            allowance: Mapping[str, float] | None = None,
            references: Mapping[str, np.ndarray | str] | None = None) -> pd.DataFrame:
    """Pairwise agreement of ``lp - lp[0]``: columns a, b, max_abs_diff, tolerance, status, error, check.

    ``allowance``: {key: bound on each of its values} (``deviation_allowances``), a known error of the
    values of that key, added to the pair's tolerance (for ``lp[i] - lp[0]``: twice). ``references``:
    {key: the reference's values at the points where that key evaluates} (``evaluated_points``), compared
    with that key instead of ``values[REFERENCE]``."""
    allowance = allowance or {}
    references = references or {}
    rows = []
    for a, b in itertools.combinations(values, 2):
        va, vb = values[a], values[b]
        if a == REFERENCE and b in references:
            va = references[b]
        if isinstance(va, str) or isinstance(vb, str):
            rows.append(_error_row(check, a, b, va if isinstance(va, str) else vb))
        else:
            known = allowance.get(a, 0.0) + allowance.get(b, 0.0)
            extra = np.full(np.shape(va), known) if known else None
            rows.append(_row(check, a, b, *compare_differences(va, vb, rtol, atol, extra=extra)))
    return pd.DataFrame(rows).drop(columns="size")


def _grad_compare(ga, gb, rtol: float = GRAD_RTOL, known: float = 0.0):
    """Elementwise agreement of two gradients; ``known``: the allowed known deviation of the pair
    (``deviation_allowances`` of both sides), added to the absolute tolerance."""
    ga, gb = np.asarray(ga), np.asarray(gb)
    if not (np.all(np.isfinite(ga)) and np.all(np.isfinite(gb))):
        return np.inf, np.nan, False
    return _worst(np.abs(ga - gb), GRAD_ATOL + known + rtol * np.maximum(np.abs(ga), np.abs(gb)))


def deviation_allowances(spec, data, names, anchor: str | None = None) -> dict[str, float]:
    """{backend: bound on each of its values and gradient coordinates} for the backends among ``names``
    whose family declares a known deviation (``ModelSpec.known_deviation``): ``per_observation x
    n_observed(data)``. ``REFERENCE`` gets ``anchor``'s, the backend whose values are the reference
    of a model without a numpy density (a numpy density is exact). Backends without one are absent."""
    if not spec.known_deviation:
        return {}
    from harness.backends import load_module

    out = {name: spec.deviation_allowance(load_module(name).CAPABILITIES.family, data)
           for name in {*names, *([anchor] if anchor else [])}}
    out[REFERENCE] = out[anchor] if anchor else 0.0
    return {k: v for k, v in out.items() if v > 0}


def deviation_notes(spec, data) -> dict[str, str]:
    """{family: the sentence the tables state on every row that compares a value of that family}."""
    n = spec.n_observed(data)
    return {family: f"known {family} deviation: {per:g} per observed value x {n:,} observed = "
                    f"{spec.deviation_allowance(family, data):.3g} added to the absolute tolerance per "
                    f"{family} value compared: {reason}"
            for family, (per, reason) in spec.known_deviation.items()}


def evaluated_points(name: str, spec, data, points: list[dict]) -> list[dict]:
    """The constrained points where backend ``name``'s ``log_density`` and potential evaluate, given
    ``points``: its ``evaluated_points`` hook (Stan's unconstrain-then-constrain round trip) where it has
    one, else ``points`` themselves."""
    from harness.backends import load_module, optional_hook

    hook = optional_hook(load_module(name), "evaluated_points")
    return points if hook is None else list(hook(spec, data, points))


def moves_points(name: str) -> bool:
    """Whether backend ``name`` evaluates elsewhere than at the points it is given (``evaluated_points``)."""
    from harness.backends import load_module, optional_hook

    return optional_hook(load_module(name), "evaluated_points") is not None


def _trace(err: Exception) -> str:
    return f"{type(err).__name__}: {err}\n{traceback.format_exc()[-1500:]}"


# ---------------------------------------------------------------- which backends, against what


def partition(model: str, backends: list[str], size: str = "") -> tuple[list[str], list[dict]]:
    """(backends to check, rows for the others): not implemented for the model, or unavailable here."""
    from harness.backends import load_module, unavailable_reason
    from harness.catalogue import missing_family_reason
    from harness.spec import FAMILY_FILES

    usable, rows = [], []
    for name in backends:
        family = load_module(name).CAPABILITIES.family
        missing = missing_family_reason(model, family) if family in FAMILY_FILES else None
        if missing:
            rows.append(_status_row("all", REFERENCE, name, "not implemented", missing, size))
            continue
        why = unavailable_reason(name)
        if why:
            rows.append(_status_row("all", REFERENCE, name, "skipped", f"skipped: unavailable ({why})", size))
            continue
        usable.append(name)
    return usable, rows


def anchor_backend(usable: list[str]) -> str | None:
    """The reference for a model without a numpy density: the first usable Stan-family backend, else
    the first usable backend."""
    from harness.backends import load_module

    stan = [b for b in usable if load_module(b).CAPABILITIES.family == "stan"]
    candidates = stan or usable
    return candidates[0] if candidates else None


def _log_densities(spec, data, names: list[str], points: list[dict]) -> dict[str, np.ndarray | str]:
    from harness.backends import get_backend

    out: dict[str, np.ndarray | str] = {}
    for name in names:
        try:
            out[name] = np.asarray(get_backend(name).log_density(spec, data, points), dtype=np.float64)
        except Exception as err:  # recorded per backend; the other pairs are still compared
            out[name] = _trace(err)
    return out


# ---------------------------------------------------------------- support


def _refuses(module, spec, data, point) -> tuple[bool, str]:
    """(True, how) when the backend refuses a constrained point (-inf, nan or an exception)."""
    from harness.equivalence.strict import strict_supports

    try:
        with strict_supports(module):
            value = float(np.asarray(module.log_density(spec, data, [point]))[0])
    except Exception as err:  # a clear error is a refusal
        return True, f"{type(err).__name__}"
    return (not np.isfinite(value) or value == -np.inf), repr(value)


def _finite_outside(module, spec, data, outside: list[tuple[str, dict]]) -> list[str]:
    """Labels of the outside points the backend does not refuse. One call for all of them first (PyMC
    compiles once and returns -inf); point by point when that call raises (Stan, Pyro, NumPyro)."""
    from harness.equivalence.strict import strict_supports

    try:
        with strict_supports(module):
            values = np.asarray(module.log_density(spec, data, [p for _, p in outside]), dtype=np.float64)
        return [f"{label} -> {v!r}" for (label, _), v in zip(outside, values) if np.isfinite(v)]
    except Exception:
        pass
    finite = []
    for label, point in outside:
        refused, how = _refuses(module, spec, data, point)
        if not refused:
            finite.append(f"{label} -> {how}")
    return finite


def support_rows(spec, data, usable: list[str], base: dict, size: str, reference, rtol: float = RTOL,
                 allowance: Mapping[str, float] | None = None, exact_reference: bool = False) -> list[dict]:
    """Refusal of the outside probes and agreement at the inside probes, per backend (``allowance``:
    ``deviation_allowances``, with the reference's under ``REFERENCE``). ``exact_reference``: the
    reference is the numpy density, evaluated at the inside probes where each backend evaluates them
    (``evaluated_points``); an anchor backend's values are compared as they are."""
    allowance = allowance or {}
    from harness.backends import get_backend
    from harness.equivalence.strict import strict_supports

    outside, inside = pts.support_probes(spec, data, base)
    if not outside:
        return []
    ref_inside = None
    if inside:
        ref_inside = reference([base] + [p for _, p in inside])
    rows = []
    for name in usable:
        try:
            module = get_backend(name)
            finite = _finite_outside(module, spec, data, outside)
            values, ref_values = None, ref_inside
            if inside:
                probes = [base] + [p for _, p in inside]
                with strict_supports(module):
                    values = np.asarray(module.log_density(spec, data, probes), dtype=np.float64)
                if exact_reference and moves_points(name):
                    ref_values = reference(evaluated_points(name, spec, data, probes))
        except Exception as err:
            rows.append(_error_row("support", REFERENCE, name, _trace(err), size))
            continue
        diff, tol, ok = 0.0, np.nan, True
        text = []
        if values is not None and isinstance(ref_values, np.ndarray):
            # a density may be -inf inside the declared support (a uniform prior narrower than its bounds):
            # there the backend must agree that it is -inf; the finite probes are compared as usual
            both = np.isfinite(ref_values) & np.isfinite(values)
            if (np.isfinite(ref_values) != np.isfinite(values)).any():
                ok, diff, tol = False, np.inf, np.nan
                text.append("finite where the reference is -inf (or the reverse) just inside the support")
            elif both[0] and both.sum() > 1:
                known = allowance.get(REFERENCE, 0.0) + allowance.get(name, 0.0)
                diff, tol, ok = compare_differences(ref_values[both], values[both], rtol=rtol,
                                                    extra=np.full(int(both.sum()), known) if known else None)
                if not ok:
                    text.append("points just inside the support disagree with the reference")
        if finite:
            text.insert(0, "finite log density outside the declared support: " + "; ".join(finite))
        rows.append(_row("support", REFERENCE, name, np.inf if finite else diff, tol, ok and not finite,
                         "; ".join(text), size))
    return rows


# ---------------------------------------------------------------- potentials


def _which(ref_w, w, labels) -> str:
    dd = np.abs((w - w[0]) - (ref_w - ref_w[0]))
    k = int(np.nanargmax(np.where(np.isfinite(dd), dd, np.inf)))
    return f"potential differences disagree, most at {labels[k]}"


def potential_rows(spec, data, usable: list[str], x0: dict, x1: dict, size: str, seed: int,
                   reference_w=None, allowance: Mapping[str, float] | None = None) -> list[dict]:
    """transform, potential, gradient and fd_gradient rows of the backends with a potential hook.

    ``reference_w``: ``points -> W`` of the numpy density (``-log p``), evaluated where each backend
    with an ``evaluated_points`` hook evaluates (Stan's potential round-trips a point as its
    ``log_density`` does; another library's potential evaluates at its own constrain of its
    unconstrained value, which it does not report), or None: then the anchor backend's own W is the
    reference.
    ``allowance``: {backend: bound on each of its values and gradient coordinates}
    (``deviation_allowances``), added to every comparison of them.
    """
    rtol, grad_rtol = max(RTOL, spec.numerical_rtol), max(GRAD_RTOL, spec.numerical_rtol)
    allowance = allowance or {}
    from harness.backends import get_backend, optional_hook

    blocks = pts.layout(spec, data)
    coords = pts.step_coordinates(blocks, seed)
    points, labels = pts.potential_points(spec, data, x0, x1, coords)
    canonical_u = np.array([pts.unconstrain(spec, data, p) for p in points[:2]])
    shared: dict[int, pot.Evaluation | str] = {}
    results: dict[str, pot.Evaluation | str] = {}
    potentials: dict[int, object] = {}
    keys = {}
    for name in usable:
        hook = optional_hook(get_backend(name), "potential")
        if hook is None:
            continue
        key = keys[name] = id(hook)
        if key not in shared:  # one evaluation per family (backends re-exporting one hook)
            try:
                potentials[key] = hook(spec, data)
                shared[key] = pot.evaluate(potentials[key], spec, data, points)
            except Exception as err:
                shared[key] = _trace(err)
        results[name] = shared[key]
    rows: list[dict] = []
    ref_w, ref_err, ref_name = None, None, REFERENCE
    if reference_w is not None:
        try:
            ref_w, ref_err = np.asarray(reference_w(points), dtype=np.float64), np.zeros(len(points))
        except Exception as err:
            rows.append(_error_row("potential", REFERENCE, REFERENCE, f"reference density: {_trace(err)}", size))
    else:
        anchor = anchor_backend([n for n in usable if n in results])
        if anchor is not None and isinstance(results[anchor], pot.Evaluation):
            ev = results[anchor]
            assert isinstance(ev, pot.Evaluation)
            ref_w, ref_err, ref_name = ev.w, ev.w_err, anchor
    fd_cache: dict[int, tuple] = {}
    for name, res in results.items():
        if isinstance(res, str):
            rows += [_error_row(c, REFERENCE, name, res, size) for c in ("transform", "potential", "fd_gradient")]
            continue
        for blk in blocks:  # transform: elementwise supports have one map, which every library must use
            if not blk.support.elementwise or not res.own_transform:
                continue
            got, want = res.us[:2, blk.start:blk.stop], canonical_u[:, blk.start:blk.stop]
            diff, tol, ok = _worst(np.abs(got - want), U_RTOL * (1 + np.abs(want)))
            rows.append(_row("transform", REFERENCE, name, diff, tol, ok,
                             "" if ok else f"{blk.name}: unconstrained value differs from the declared support's "
                                           f"map ({blk.support.describe()})", size))
        own_ref_w = ref_w  # the numpy density where this backend evaluates
        if ref_w is not None and reference_w is not None and moves_points(name):
            try:
                own_ref_w = np.asarray(reference_w(evaluated_points(name, spec, data, points)), dtype=np.float64)
            except Exception as err:
                rows.append(_error_row("potential", REFERENCE, name, f"evaluated points: {_trace(err)}", size))
                own_ref_w = None
        if own_ref_w is not None:
            known = allowance.get(ref_name, 0.0) + allowance.get(name, 0.0)
            diff, tol, ok = compare_differences(own_ref_w, res.w, rtol=rtol, extra=res.w_err + ref_err + known)
            note = "; ".join(res.notes)
            why = "" if ok else _which(own_ref_w, res.w, labels)
            rows.append(_row("potential", REFERENCE, name, diff, tol, ok,
                             "; ".join(filter(None, [why, note if not ok else ""])), size))
        key = keys[name]
        if key not in fd_cache:
            try:
                fd_cache[key] = _fd_check(potentials[key], res, blocks, seed, allowance.get(name, 0.0))
            except Exception as err:
                fd_cache[key] = (np.nan, np.nan, False, _trace(err))
        diff, tol, ok, text = fd_cache[key]
        rows.append(_row("fd_gradient", REFERENCE, name, diff, tol, ok, text, size))
    for a, b in itertools.combinations(results, 2):
        ra, rb = results[a], results[b]
        if isinstance(ra, str) or isinstance(rb, str):
            rows += [_error_row(c, a, b, ra if isinstance(ra, str) else rb, size) for c in ("potential", "gradient")]
            continue
        known = allowance.get(a, 0.0) + allowance.get(b, 0.0)
        rows.append(_row("potential", a, b, *compare_differences(ra.w, rb.w, rtol=rtol,
                                                                 extra=ra.w_err + rb.w_err + known), size=size))
        common = [blk for blk in blocks
                  if np.all(np.abs(ra.us[:, blk.start:blk.stop] - rb.us[:, blk.start:blk.stop])
                            <= U_RTOL * (1 + np.abs(rb.us[:, blk.start:blk.stop])))]
        if not common:
            continue
        idx = np.concatenate([np.arange(blk.start, blk.stop) for blk in common])
        diff, tol, ok = _grad_compare(ra.grads[:, idx], rb.grads[:, idx], grad_rtol, known)
        rows.append(_row("gradient", a, b, diff, tol, ok, "" if ok else "gradients differ", size))
    for r in rows:
        r.setdefault("reference", ref_name)
    return rows


def _fd_check(potential, res: pot.Evaluation, blocks, seed: int, known: float = 0.0) -> tuple[float, float, bool, str]:
    """The potential's gradient at x0 and x1 against central differences of its own values (``known``:
    the family's declared known deviation, added to the tolerance)."""
    coords = pts.step_coordinates(blocks, seed + 1, limit=FD_COORDS)
    diffs, tols = [], []
    for k in (0, len(res.us) - 1):
        g_fd, err, g = pot.fd_gradient(potential, res.us[k], coords)
        diffs.append(np.abs(g - g_fd))
        tols.append(FD_RTOL * (1 + np.abs(g_fd)) + err + known)
    diff, tol, ok = _worst(np.concatenate(diffs), np.concatenate(tols))
    return diff, tol, ok, "" if ok else "gradient differs from finite differences of the potential's own values"
