"""A recommendation as Markdown (``templates/recommend.md.j2``): the headline, two ranked tables sorted
the way they are ranked, the exclusions, and the commands that would complete the evidence."""

from __future__ import annotations

import math

from harness.diagnostics import ESS_MIN, RHAT_MAX
from harness.recommend.core import Recommendation
from harness.recommend.exclude import DIVERGENCE_LIMIT
from harness.tables import fmt, markdown_table
from harness.templates import render


def _names(group) -> str:
    names = [c.backend for c in group]
    return names[0] if len(names) == 1 else "tied: " + ", ".join(names)


def headline(rec: Recommendation) -> list[str]:
    """The sentences that answer "which backend?" (recommended, provisional, or none)."""
    if not rec.ranked:
        return ["**No backend qualifies**: every backend with results was excluded (see below)."]
    lines = []
    rec_ess, rec_time = rec.recommended("ess"), rec.recommended("time")
    if rec_ess and [c.backend for c in rec_ess] == [c.backend for c in rec_time]:
        lines.append(f"**Recommended: {_names(rec_ess)}** (highest ESS/s and shortest time to {rec.target_ess} "
                     "effective draws including compile, among backends with all of the evidence).")
    elif rec_ess:
        lines.append(f"**Recommended: {_names(rec_ess)}** for long or repeated runs (highest ESS/s); "
                     f"**{_names(rec_time)}** for one-off runs (shortest time to {rec.target_ess} effective draws "
                     "including compile), among backends with all of the evidence.")
    else:
        lines.append("**Not recommended yet**: no backend has all of the evidence (see *provisional* below).")
    provisional = rec.provisional("ess")
    if provisional:
        what = "; ".join(f"{c.backend} (not validated: {', '.join(c.missing)})" for c in provisional)
        lines.append(f"**Provisional** (ranked {'above it' if rec_ess else 'best'} on the evidence there is): {what}.")
    return lines


def _ess_table(rec: Recommendation) -> str:
    rows = []
    for rank, c in rec.by_ess_per_s():
        lo, hi = c.ess_per_s_interval
        rows.append([rank, c.backend, fmt(c.ess_per_s, "{:,.0f}"), f"{fmt(lo, '{:,.0f}')}-{fmt(hi, '{:,.0f}')}",
                     c.runs, c.divergence or "-", c.accuracy or "-", c.sbc or "-",
                     "full" if c.validated else "provisional: " + ", ".join(c.missing), "; ".join(c.warnings)])
    return markdown_table(rows, ["rank", "backend", "ESS/s (median)", "interval", "runs", "divergent (95% CI)",
                                 "accuracy", "SBC", "evidence", "warnings"])


def _time_table(rec: Recommendation) -> str:
    rows = []
    for rank, c in rec.by_time():
        compile_text = fmt(c.compile_s, "{:.2f} s") + (f" ({c.cache})" if c.cache else "")
        lo, hi = c.time_interval
        rows.append([rank, c.backend, fmt(c.time_to_target_s, "{:.2f} s"), f"{fmt(lo, '{:.2f}')}-{fmt(hi, '{:.2f} s')}",
                     compile_text, fmt(c.warmup_s, "{:.2f} s"), fmt(c.sampling_per_target_s, "{:.2f} s")])
    return markdown_table(rows, ["rank", "backend", f"time to {rec.target_ess} ESS", "interval", "compile", "warm-up",
                                 f"sampling for {rec.target_ess} ESS"])


def markdown(rec: Recommendation) -> str:
    cov = [c.interval_coverage for c in rec.ranked if math.isfinite(c.interval_coverage)]
    commands = list(dict.fromkeys(cmd for c in rec.ranked for cmd in c.commands))
    excluded = (markdown_table([[b, "; ".join(r)] for b, r in rec.excluded.items()], ["backend", "reason"])
                if rec.excluded else "")
    return render(
        "recommend.md.j2", rec=rec, where=rec.device + (f", size {rec.size}" if rec.size else ""),
        sources=", ".join(f"`{d}`" for d in rec.sources),
        sbc_sources=", ".join(f"`{d}`" for d in rec.sbc_sources) if rec.sbc_sources else "none found",
        headline=headline(rec), coverage=f"{min(cov):.0%}" if cov else "",
        ess_table=_ess_table(rec) if rec.ranked else "", time_table=_time_table(rec) if rec.ranked else "",
        excluded=excluded, commands=commands, rhat=RHAT_MAX, ess_min=ESS_MIN, limit=f"{DIVERGENCE_LIMIT:.0%}")


def class_markdown(rankings) -> str:
    """Per-class rankings (``harness.recommend.classes``) as Markdown."""
    sections = []
    for ranking in rankings:
        rows = []
        for rank, row, (lo, hi) in ranking.ranked():
            rows.append([rank, row.backend, fmt(row.median, "{:.2f}"), f"{fmt(lo, '{:.2f}')}-{fmt(hi, '{:.2f}')}",
                         len(row.relative)])
        excluded = [[r.backend, r.excluded] for r in ranking.rows if r.excluded]
        sections.append({"cls": ranking.cls, "models": ", ".join(ranking.models),
                         "table": markdown_table(rows, ["rank", "backend", "relative ESS/s (median)", "interval",
                                                        "models"]) if rows else "",
                         "excluded": markdown_table(excluded, ["backend", "excluded for the class"]) if excluded else ""})
    return render("classes.md.j2", sections=sections)
