"""Every verdict the harness gives, and how verdicts are ordered and combined: one rule per fact.

* accuracy (``harness.accuracy``): PASS, REVIEW, FAIL, "no reference", "low ESS"; worst first by ``ACCURACY_SEVERITY``;
* equivalence (``harness.equivalence``): per model x backend, from its table (``equivalence_verdicts``);
* SBC (``harness.sbc.stats``): the verdicts that qualify a backend (``QUALIFYING_SBC``).
"""

from __future__ import annotations

import math

import pandas as pd

ACCURACY_VERDICTS = ("PASS", "REVIEW", "FAIL", "no reference", "low ESS")
# higher is worse: a FAIL anywhere outweighs a REVIEW, which outweighs a missing reference or a fit too
# short to test ("low ESS")
ACCURACY_SEVERITY = {"PASS": 0, "no reference": 1, "low ESS": 1, "REVIEW": 2, "FAIL": 3}
QUALIFYING_SBC = ("pass", "pass (flag not confirmed)")
EQUIVALENCE_REFERENCE = "reference"  # the ``a`` of rows against the model's reference


def accuracy_severity(verdict: str) -> int:
    """Severity of an accuracy verdict (unknown text counts like "no reference")."""
    return ACCURACY_SEVERITY.get(str(verdict), ACCURACY_SEVERITY["no reference"])


def worst_accuracy(values) -> str:
    """The worst of some accuracy verdicts ('' for none)."""
    values = [str(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return max(values, key=accuracy_severity) if values else ""


def first_line(text, width: int = 160) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:width] if lines else ""


def _num(value) -> str:
    from harness.tables import fmt

    return fmt(value, "{:.3g}")


def equivalence_verdicts(table: pd.DataFrame | None) -> dict[tuple[str, str], tuple[str, str]]:
    """{(model, backend): (verdict, detail)} from an equivalence table; verdict is 'pass', 'fail',
    'skipped' (unavailable here) or 'not implemented' (the model does not bring its family).

    A backend passes when it agrees with the model's reference (rows ``reference`` x backend: the numpy
    density, or the Stan program for a model without one), so one broken backend does not fail the
    others through the pairs they share with it. Without reference rows the verdict falls back to
    "every pair with this backend passed".
    """
    ref_name = EQUIVALENCE_REFERENCE
    out: dict[tuple[str, str], tuple[str, str]] = {}
    if table is None or table.empty:
        return out
    for key, group in table.groupby("model", sort=False):
        model = str(key)
        names = sorted((set(group["a"]) | set(group["b"])) - {ref_name})
        for name in names:
            pair = ((group["a"] == name) & (group["b"] == ref_name)) | ((group["b"] == name) & (group["a"] == ref_name))
            ref = group[pair]
            rows = ref if not ref.empty else group[(group["a"] == name) | (group["b"] == name)]
            statuses = set(rows["status"])
            if statuses in ({"skipped"}, {"not implemented"}):
                verdict = statuses.pop()
                out[(model, name)] = (verdict, first_line(rows.iloc[0].get("error", "")))
                continue
            bad = rows[rows["status"] != "pass"]
            if bad.empty:
                detail = "agrees with the reference" if not ref.empty else "all pairs agree"
                out[(model, name)] = ("pass", detail)
            else:
                row = bad.iloc[0]
                other = row["b"] if row["a"] == name else row["a"]
                if str(row.get("error", "")).strip():
                    detail = f"{row['status']} against {other}: {first_line(row['error'])}"
                else:
                    detail = (f"{row['status']} against {other}: max abs diff {_num(row.get('max_abs_diff'))} "
                              f"> tolerance {_num(row.get('tolerance'))}")
                out[(model, name)] = ("fail", detail)
    return out
