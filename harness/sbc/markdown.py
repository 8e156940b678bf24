"""The Markdown table that ``python -m harness sbc`` prints, with the run's error statement."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.sbc.summary import expected_false_alarms
from harness.tables import fmt
from harness.tables import markdown_table as table


def markdown_table(summary: pd.DataFrame) -> str:
    """The per model x backend table the command prints, and the run's error statement."""
    headers = ["model", "backend", "replicates", "failed", "verdict", "first-stage p", "detects (80%)", "confirmation",
               "no-divergent diagnostic (excluded)", "failed quantities", "coverage 50/80/95", "replicates/s"]
    rows = []
    compile_notes = []
    for r in summary.itertuples():
        if r.screen_verdict == "not run":
            rows.append([r.model, r.backend, 0, "-", r.verdict, *["-"] * 7])
            continue
        lost = _count(getattr(r, "compile_failed", 0))
        if lost:
            compile_notes.append(f"- {r.model} x {r.backend}: the model did not compile; that cost {lost} "
                                 f"replicate(s): {str(getattr(r, 'compile_error', '') or 'see the run logs')}")
        failed_q = r.failed_quantities if isinstance(r.failed_quantities, str) and r.failed_quantities else "-"
        confirm = "-"
        if r.confirm_sims:
            confirm = (f"{fmt(r.confirm_sims, '{:.0f}')} fresh, p = {fmt(r.confirm_p, '{:.3g}')}, Holm {fmt(r.confirm_p_holm, '{:.3g}')}"
                       f", detects {fmt(r.confirm_power_shift, '{:.2f}')} sd")
        rows.append([
            r.model, r.backend, r.sims, f"{r.failed} ({r.failed_frac:.1%}{f'; {lost} at compile' if lost else ''})",
            r.verdict, fmt(r.p_value, "{:.3g}"), fmt(r.power_shift, "{:.2f} sd"), confirm,
            f"{r.verdict_no_divergent} ({r.excluded_frac_no_divergent:.1%})", failed_q,
            f"{r.coverage_50:.2f}/{r.coverage_80:.2f}/{r.coverage_95:.2f}", f"{r.reps_per_s:.2f}",
        ])
    lines = [table(rows, headers)]
    if compile_notes:
        lines += ["", "Compile failures (each recorded once, with the replicates it cost):", *compile_notes]
    statement = expected_false_alarms(summary)
    return "\n".join(lines) + ("\n\n" + statement if statement else "")


def _count(value) -> int:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0
    return int(value) if np.isfinite(value) else 0
