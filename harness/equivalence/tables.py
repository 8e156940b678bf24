"""The equivalence tables: every (model, size, check, pair) row, and one row per model x pair."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from harness.equivalence import checks
from harness.equivalence import points as pts
from harness.equivalence.checks import COLUMNS, LONG_COLUMNS, REFERENCE


def other_size(spec) -> dict | None:
    """The second size checked: every size argument divided by 4 (at least 2); None for fixed-size models."""
    if not spec.size_defaults:
        return None
    return {k: max(2, int(v) // 4) for k, v in spec.size_defaults.items()}


def size_text(spec, size: dict | None) -> str:
    """The size column: the size label, or "default" for a fixed-size model."""
    return spec.size_label(size) or "default"


def _reference_points(model: str) -> dict | None:
    """Stored reference draws of the model ({name: (n, *shape)}): the equivalence checks' start points."""
    from harness.catalogue import reference_dir

    path = reference_dir(model) / "draws.npz"
    if not path.is_file():
        return None
    with np.load(path) as z:
        return {k: np.asarray(z[k], dtype=np.float64) for k in z.files}


def model_rows(model: str, backends: list[str], n_points: int, seed: int, size: dict | None,
               checks_wanted: tuple[str, ...] = checks.CHECKS) -> list[dict]:
    """Every row of one model at one size."""
    from harness.catalogue import get_model

    spec = get_model(model)
    data = spec.data(**(size or {}))
    label = size_text(spec, size)
    usable, rows = checks.partition(model, backends, label)
    reference_draws = _reference_points(model) if not size else None  # the reference is at the default size
    reference_w: Callable | None
    anchor: str | None = None
    if spec.has_density:
        ref_name = REFERENCE

        def reference(ps):
            return np.array([spec.log_density(p, data) if pts.inside(spec, data, p) else -np.inf for p in ps])

        def density_w(ps):
            return -reference(ps)

        reference_w = density_w
    else:
        anchor = checks.anchor_backend(usable)
        ref_name = anchor or "none"
        reference_w = None

        def reference(ps):
            if anchor is None:
                return None
            return checks._log_densities(spec, data, [anchor], ps)[anchor]
    # start points where the reference log density is finite (a prior draw can overflow it)
    points, source, shortfall = pts.start_points(spec, data, max(n_points, 2), seed, reference_draws,
                                                 log_density=reference)
    allowance = checks.deviation_allowances(spec, data, usable, anchor)
    found: list[dict] = []
    if "density" in checks_wanted and usable:
        values = checks._log_densities(spec, data, usable, points[:n_points])
        references = {}
        if spec.has_density:
            values = {REFERENCE: reference(points[:n_points]), **values}
            references = _references_where_evaluated(spec, data, usable, points[:n_points], reference)
        elif ref_name in values:
            values = {REFERENCE: values[ref_name], **values}
        rtol = max(checks.RTOL, spec.numerical_rtol)
        found += [{**r, "size": label} for r in checks.compare(values, rtol=rtol, allowance=allowance,
                                                               references=references).to_dict("records")] if len(values) > 1 else []
    if "support" in checks_wanted and usable:
        found += checks.support_rows(spec, data, usable, points[0], label, reference, max(checks.RTOL, spec.numerical_rtol),
                                     allowance, exact_reference=spec.has_density)
    if set(checks_wanted) & {"transform", "potential", "gradient", "fd_gradient"} and usable:
        extra = checks.potential_rows(spec, data, usable, points[0], points[1], label, seed, reference_w, allowance)
        found += [r for r in extra if r["check"] in checks_wanted]
    ref_label = "numpy density" if spec.has_density else f"{ref_name} (no numpy density)"
    if spec.numerical_rtol:
        ref_label += f"; relative tolerance {spec.numerical_rtol:g}: {spec.numerical_rtol_reason}"
    notes = _deviation_notes(spec, data, allowance, anchor)
    for r in rows + found:
        r["reference"] = "; ".join([ref_label, *dict.fromkeys(notes[k] for k in (r["a"], r["b"]) if k in notes)])
        r["points"] = source
        if shortfall and r["status"] in ("fail", "error"):  # what the check compared: say so first
            r["error"] = "; ".join(filter(None, [shortfall, r["error"]]))
    return [{"model": model, **r} for r in rows + found]


def _references_where_evaluated(spec, data, usable: list[str], points: list[dict], reference) -> dict:
    """{backend: the numpy density at the points where it evaluates ``points``} for the backends that
    evaluate elsewhere (``checks.evaluated_points``); an error text where those points cannot be had."""
    out: dict = {}
    for name in usable:
        if checks.moves_points(name):
            try:
                out[name] = reference(checks.evaluated_points(name, spec, data, points))
            except Exception as err:
                out[name] = f"evaluated points: {checks._trace(err)}"
    return out


def _deviation_notes(spec, data, allowance: dict[str, float], anchor: str | None) -> dict[str, str]:
    """{backend (or ``REFERENCE``): the known-deviation sentence of its family} for every key of
    ``allowance``: stated in the ``reference`` column of each row that compares its values."""
    from harness.backends import load_module

    if not allowance:
        return {}
    text = checks.deviation_notes(spec, data)
    out = {}
    for name in allowance:
        backend = anchor if name == REFERENCE else name
        if backend is not None:
            out[name] = text[load_module(backend).CAPABILITIES.family]
    return out


def check_long(models: list[str], backends: list[str], n_points: int = 5, seed: int = 0,
               checks_wanted: tuple[str, ...] = checks.CHECKS, declaration: bool = True) -> pd.DataFrame:
    """Every (model, size, check, pair) row.

    The declaration check (``harness.equivalence.declaration``) runs first; where it fails, the model's
    numeric checks are skipped. ``declaration=False`` runs the numeric checks alone (the mutant tests
    use it to show that the numbers catch what the declaration check catches first).
    """
    from harness.catalogue import get_model
    from harness.equivalence.declaration import declaration_rows

    rows = []
    for model in models:
        spec = get_model(model)
        declared = declaration_rows(model, backends) if declaration else []
        rows += declared
        if any(r["status"] == "fail" for r in declared):
            continue  # the numeric checks would only fail deep inside a backend on the same mismatch
        for size in [None] + ([other_size(spec)] if other_size(spec) else []):
            rows += model_rows(model, backends, n_points, seed, size, checks_wanted)
    return pd.DataFrame(rows, columns=[*LONG_COLUMNS, "points"])


def summarise(long: pd.DataFrame) -> pd.DataFrame:
    """One row per model x pair: pass only when every check at every size passed; skipped and not
    implemented rows keep their status."""
    rows = []
    for (model, a, b), group in long.groupby(["model", "a", "b"], sort=False):
        bad = group[group["status"] != "pass"]
        pick = bad if not bad.empty else group
        ratio = (pick["max_abs_diff"] / pick["tolerance"]).fillna(np.inf)
        worst = pick.iloc[int(np.argmax(ratio.to_numpy()))]  # the first worst row (a group is never empty)
        statuses = set(bad["status"])
        if bad.empty:
            status = "pass"
        elif statuses <= {"not implemented"}:
            status = "not implemented"
        elif statuses <= {"skipped"}:
            status = "skipped"
        elif statuses <= {"error"}:
            status = "error"
        else:
            status = "fail"
        if status in ("not implemented", "skipped"):
            errors = [str(bad.iloc[0]["error"])]
        else:
            errors = [f"{r.check!s} at {r.size!s}: {r.error or f'max |diff| {r.max_abs_diff:.3g} > {r.tolerance:.3g}'!s}"
                      for r in bad.itertuples()]
        reference = str(group["reference"].dropna().iloc[0]) if group["reference"].notna().any() else ""
        rows.append({"model": model, "a": a, "b": b, "status": status,
                     "check": ",".join(dict.fromkeys(c for c in bad["check"] if c != "all")),
                     "max_abs_diff": worst["max_abs_diff"], "tolerance": worst["tolerance"],
                     "error": " | ".join(errors)[:2000], "reference": reference})
    return pd.DataFrame(rows, columns=COLUMNS)


def check(models: list[str], backends: list[str], n_points: int = 5, seed: int = 0) -> pd.DataFrame:
    """Equivalence table for every model: one row per pair (backends and the reference)."""
    return summarise(check_long(models, backends, n_points, seed))


def backend_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per model x backend: the verdict of ``harness.verdicts.equivalence_verdicts`` as a table."""
    from harness.verdicts import equivalence_verdicts

    rows = [{"model": m, "backend": b, "equivalence": verdict}
            for (m, b), (verdict, _) in equivalence_verdicts(table).items()]
    return pd.DataFrame(rows, columns=["model", "backend", "equivalence"])

