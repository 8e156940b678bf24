"""Rankings per model class and overall: which backend is fastest on GPs, on ODEs, on everything.

For every model of a class with stored runs, each backend's ESS/s (median over repeats) is divided by
the best backend's on that model: its *relative efficiency* (1 = the fastest). A backend excluded on a
model for running out of its time, crashing, diverging or not converging scores 0 there; one that
FAILs the accuracy check or SBC on any model of the class is **excluded for the class**, with the
model and the reason. Backends are ranked by the median relative efficiency over the class's models,
with the distribution-free interval of that median over models (``score.median_interval``); intervals
that overlap share a rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.recommend.score import interval_ranks, median_interval

OVERALL = "all models"


@dataclass
class ClassRow:
    backend: str
    relative: list[float] = field(default_factory=list)  # one per model scored
    models: list[str] = field(default_factory=list)
    excluded: str = ""

    @property
    def median(self) -> float:
        return float(pd.Series(self.relative, dtype=float).median())


@dataclass
class ClassRanking:
    cls: str
    models: list[str]
    rows: list[ClassRow]

    def ranked(self) -> list[tuple[int, ClassRow, tuple[float, float]]]:
        scored = [r for r in self.rows if not r.excluded and r.relative]
        intervals = [median_interval(r.relative)[:2] for r in scored]
        ranks = interval_ranks(intervals, higher_is_better=True)
        out = sorted(zip(ranks, scored, intervals), key=lambda t: (t[0], -t[1].median))
        return out


def _disqualifying(reasons: list[str]) -> str:
    hard = [r for r in reasons if r.startswith("accuracy FAIL") or r.startswith("SBC fail")]
    return hard[0] if hard else ""


def class_rankings(frame: pd.DataFrame, equivalence: dict[Path, pd.DataFrame | None], sbc: pd.DataFrame | None,
                   device: str = "cpu", classes: list[str] | None = None) -> list[ClassRanking]:
    """One ranking per class (``classes``, default every class with results) and one over all models."""
    from harness.catalogue import get_model, model_names
    from harness.recommend.core import recommend
    from harness.spec import TAGS

    known = set(model_names())
    models = [m for m in dict.fromkeys(frame["model"]) if m in known]
    recs = {}
    for model in models:
        try:
            recs[model] = recommend(model, device, frame, equivalence, sbc, allow_missing_sbc=True)
        except Exception:  # no runs at the default size on this device
            continue
    wanted = classes if classes is not None else [t for t in TAGS if any(t in get_model(m).tags for m in recs)]
    out = []
    for cls in [*wanted, OVERALL]:
        members = [m for m in recs if cls == OVERALL or cls in get_model(m).tags]
        rows: dict[str, ClassRow] = {}
        for model in members:
            rec = recs[model]
            best = max((c.ess_per_s for c in rec.ranked if math.isfinite(c.ess_per_s)), default=math.nan)
            for c in rec.ranked:
                row = rows.setdefault(c.backend, ClassRow(c.backend))
                row.relative.append(c.ess_per_s / best if best and math.isfinite(best) else math.nan)
                row.models.append(model)
            for backend, reasons in rec.excluded.items():
                row = rows.setdefault(backend, ClassRow(backend))
                hard = _disqualifying(reasons)
                if hard and not row.excluded:
                    row.excluded = f"{model}: {hard}"
                elif not any(r.startswith("not implemented") for r in reasons):
                    row.relative.append(0.0)
                    row.models.append(model)
        out.append(ClassRanking(cls, members, list(rows.values())))
    return out
