"""Which backend for this model? Rank the backends on the evidence there is; recommend only on all of it.

A backend of a model x size x device is **excluded**, with the reason, when any of its stored runs did
not finish (status not ok), its log density disagrees with the model's reference (``equivalence.csv``),
its accuracy against the reference posterior is FAIL (the repeats pooled, ``harness.accuracy``), its
SBC verdict is a confirmed fail, it diverges more than the model allows (``exclude.divergences``: above
1% of draws, or clearly more often than the best backend), or its fits do not converge (median max
R-hat > 1.01, median min bulk ESS < 100).

Every other backend is **ranked** twice, each with a distribution-free interval for the median over
repeats (``score``): by ESS per second of sampling, and by the time to ``target_ess`` effective draws
including compile. Backends with overlapping intervals share a rank.

Evidence that is missing does not exclude: it is listed ("not validated: no SBC") with the command that
completes it. **Recommended** is the best-ranked backend with all of the evidence: at least
``MIN_REPEATS`` runs, an equivalence check, an accuracy verdict against a reference (or a model with no
possible reference), and SBC passed with adequate power (or not applicable to the model). A backend
ranked above it without all of it is **provisional**.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.loaders import backend_order
from harness.recommend import exclude
from harness.recommend.exclude import MIN_REPEATS
from harness.recommend.score import TARGET_ESS, Candidate, candidate, ranked
from harness.recommend.select import load_runs, rows_for, run_dirs, select_sbc  # noqa: F401 (re-exported)
from harness.run.summary import divergence_counts, divergence_units
from harness.verdicts import equivalence_verdicts


@dataclass
class Recommendation:
    model: str
    device: str
    size: str
    target_ess: int
    sources: list[Path]
    sbc_sources: list[str]
    ranked: list[Candidate]
    excluded: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
    model_note: str | None = None  # a property of the model (every backend diverges)

    def by_ess_per_s(self) -> list[tuple[int, Candidate]]:
        return ranked(self.ranked, "ess")

    def by_time(self) -> list[tuple[int, Candidate]]:
        return ranked(self.ranked, "time")

    @property
    def validated(self) -> list[Candidate]:
        return [c for c in self.ranked if c.validated]

    def recommended(self, by: str = "ess") -> list[Candidate]:
        """The best-ranked backends with all of the evidence (ties: several)."""
        order = [(r, c) for r, c in ranked(self.ranked, by)]
        valid = [(r, c) for r, c in order if c.validated]
        if not valid:
            return []
        best = valid[0][0]
        return [c for r, c in valid if r == best]

    def provisional(self, by: str = "ess") -> list[Candidate]:
        """Backends ranked above the recommended ones (or at the top, without a recommendation) that lack evidence."""
        order = ranked(self.ranked, by)
        rec = self.recommended(by)
        top = min((r for r, c in order if c in rec), default=None)
        return [c for r, c in order if not c.validated and (top is None or r <= top)]


def sbc_not_applicable(spec) -> str | None:
    """Why no SBC can validate the model's backends (neither prior nor posterior SBC applies), or None."""
    from harness.sbc.simulation import not_applicable

    prior, posterior = not_applicable(spec, "prior"), not_applicable(spec, "posterior")
    if prior and posterior:
        return prior if prior == posterior else f"{prior}; posterior SBC {posterior}"
    return None


def recommend(model: str, device: str, frame: pd.DataFrame, equivalence: dict[Path, pd.DataFrame | None],
              sbc: pd.DataFrame | None, *, size: str | None = None, target_ess: int = TARGET_ESS,
              allow_missing_sbc: bool = False, sbc_sources: list[str] | None = None) -> Recommendation:
    """Rank the backends of ``model`` on ``device``; see the module docstring for the rules."""
    from harness.accuracy import pooled_verdicts
    from harness.catalogue import get_model, model_names

    rows, size, notes = rows_for(model, device, frame, size)
    dirs = sorted({Path(d) for d in rows["run_dir"]})
    eq: dict[str, list[tuple[str, str]]] = {}
    for d in dirs:
        for (m, b), verdict in equivalence_verdicts(equivalence.get(d)).items():
            if m == model:
                eq.setdefault(b, []).append(verdict)
    sbc = select_sbc(sbc)
    sbc_rows = {} if sbc is None else {r["backend"]: r for _, r in sbc[sbc["model"] == model].iterrows()}
    not_applicable = sbc_not_applicable(get_model(model)) if model in model_names() else None
    pooled = pooled_verdicts(rows)
    counts = {b: divergence_counts(rows[(rows["backend"] == b) & (rows["status"] == "ok")])
              for b in backend_order(rows["backend"].unique())}
    units = {b: divergence_units(rows[(rows["backend"] == b) & (rows["status"] == "ok")])
             for b in backend_order(rows["backend"].unique())}
    divergence_reasons, model_note = exclude.divergences(counts, units)

    out, excluded = [], {}
    for backend in backend_order(rows["backend"].unique()):
        mine = rows[rows["backend"] == backend]
        ok = mine[mine["status"] == "ok"]
        if (mine["status"] == "not implemented").all():
            excluded[backend] = [str(mine.iloc[0]["error"]) or "not implemented"]
            continue
        reasons = exclude.failed_runs(mine)
        eq_reasons, missing = exclude.equivalence(eq.get(backend, []))
        reasons += eq_reasons
        warnings: list[str] = []
        accuracy = ""
        if len(ok):
            accuracy, acc_reasons, acc_warnings, acc_missing = exclude.accuracy(
                pooled.get((model, size, backend, device)), ok)
            reasons += acc_reasons
            warnings += acc_warnings
            missing += acc_missing
            reasons += exclude.diagnostics(ok)
        sbc_verdict, sbc_reasons, sbc_missing = exclude.sbc(sbc_rows.get(backend), not_applicable)
        reasons += sbc_reasons
        if allow_missing_sbc and sbc_missing == ["no SBC"]:
            warnings.append("no SBC result (--allow-missing-sbc)")
            sbc_missing = []
        missing += sbc_missing
        if backend in divergence_reasons:
            reasons.append(divergence_reasons[backend])
        if reasons or not len(ok):
            excluded[backend] = reasons or ["no ok run"]
            continue
        if len(ok) < MIN_REPEATS:
            missing.insert(0, f"too few repeats ({len(ok)} < {MIN_REPEATS})")
        cand = candidate(backend, ok, target_ess)
        cand.warnings, cand.accuracy, cand.sbc = warnings, accuracy, sbc_verdict
        cand.divergence = exclude.rate_text(*counts[backend])
        cand.missing = missing
        sbc_dir = str(sbc_rows[backend]["sbc_dir"]) if backend in sbc_rows and "sbc_dir" in sbc_rows[backend] else None
        cand.commands = exclude.completion_commands(model, backend, missing, sbc_dir)
        out.append(cand)
    return Recommendation(model, device, size, target_ess, dirs, list(sbc_sources or []), out, excluded, notes,
                          model_note)
