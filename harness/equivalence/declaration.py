"""The declaration check: every implementation has the parameters ``model.py`` declares.

Before any density is compared, each family's implementation is read by a backend of that family that
can read it (``inspect_model``: PyMC's free variables, NumPyro's trace, the Stan program's parameters
block) and compared with ``SPEC.params``: the same names, the same shapes at the default data, the
same supports. A mismatch fails with a message that names the file, the parameter and both values,
instead of an error from deep inside a backend.
"""

from __future__ import annotations

import numpy as np

from harness.equivalence.checks import REFERENCE


def _row(model: str, backend: str, status: str, text: str) -> dict:
    return {"model": model, "size": "default", "check": "declaration", "a": REFERENCE, "b": backend,
            "max_abs_diff": np.nan, "tolerance": np.nan, "status": status, "error": text[:500], "reference": "model.py",
            "points": 0}


def mismatches(spec, info, data, filename: str) -> list[str]:
    """What differs between ``spec.params`` and an implementation's parameters (``ModelInfo``)."""
    from harness import supports

    declared = {p.name: p for p in spec.params}
    found = {name: (shape, support) for name, shape, support in info.params}
    out = []
    if set(declared) != set(found):
        missing, extra = sorted(set(declared) - set(found)), sorted(set(found) - set(declared))
        out.append(f"{filename} has parameters {sorted(found)}; model.py declares {sorted(declared)}"
                   + (f" (missing: {missing})" if missing else "") + (f" (not declared: {extra})" if extra else ""))
    for name in sorted(set(declared) & set(found)):
        shape, support = found[name]
        want = declared[name].resolve_shape(data)
        have = tuple(int(data[d]) if isinstance(d, str) else int(d) for d in shape)
        if want != have:
            out.append(f"{filename}: {name} has shape {have}; model.py declares {want}")
        if support == "?" or not isinstance(declared[name].support, str):
            continue  # a support the reader cannot state, or one with bounds that are functions
        mine, theirs = supports.parse(declared[name].support), supports.parse(support)
        if not same_support(mine, theirs, data):
            out.append(f"{filename}: {name} has support {support}; model.py declares {declared[name].support}")
    return out


def same_support(mine, theirs, data) -> bool:
    """The same support; interval bounds compared as numbers (data names resolved, 6 significant digits:
    the readers print bounds with ``%g``)."""
    from harness import supports

    if isinstance(mine, supports.Interval) and isinstance(theirs, supports.Interval):
        try:
            return all(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-5, atol=0)
                       for a, b in zip(mine.bounds({}, data), theirs.bounds({}, data)))
        except (KeyError, TypeError, ValueError):
            return True  # bounds that depend on other parameters are not compared
    return mine == theirs


def declaration_rows(model: str, backends: list[str]) -> list[dict]:
    """One row per family present whose implementation a listed, installed backend can read."""
    from harness.backends import capabilities, load_module, optional_hook, unavailable_reason
    from harness.catalogue import families_present, get_model, model_folders
    from harness.spec import FAMILY_FILES

    spec = get_model(model)
    rows: list[dict] = []
    folder = model_folders().get(model)
    if folder is None:  # a declaration without a folder (tests' synthetic models): nothing to read
        return rows
    present = families_present(model)
    for family, filename in FAMILY_FILES.items():
        if family not in present:
            continue
        readers = [b for b in backends if capabilities(b).family == family and not unavailable_reason(b)
                   and optional_hook(load_module(b), "inspect_model")]
        if not readers:
            continue
        inspect = optional_hook(load_module(readers[0]), "inspect_model")
        assert inspect is not None
        data = spec.data()
        try:
            info = inspect(folder / filename, spec.stan_data(data) if family == "stan" else data)
            problems = mismatches(spec, info, data, filename)
        except Exception as err:  # an implementation that cannot be read: its own message, first line
            problems = [f"{filename}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"]
        rows.append(_row(model, readers[0], "fail" if problems else "pass", "; ".join(problems)))
    return rows
