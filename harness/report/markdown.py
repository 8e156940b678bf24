"""The Markdown report (``templates/report.md.j2``): short enough for a CI job summary. The overview
figure and its per-backend table, the per-model verdicts, the benchmark table of
``harness.run.summary.markdown_summary``, SBC verdicts and one provenance line."""

from __future__ import annotations

import pandas as pd

from harness.report.facts import ReportInputs, cell_text, model_verdicts, provenance_line
from harness.report.overview import backend_table_text
from harness.run.summary import markdown_summary, phase_line, phase_markdown
from harness.tables import markdown_table
from harness.templates import render


def sbc_table(inputs: ReportInputs) -> pd.DataFrame | None:
    """The SBC rows of this run's models as display text (the columns the SBC output has); None when
    there is no SBC output, an empty frame when it has no rows for these models."""
    if inputs.sbc is None or inputs.sbc.empty:
        return None
    table = inputs.sbc[inputs.sbc["model"].isin(set(inputs.models()))]
    cols = [c for c in ("model", "backend", "verdict", "sims", "failed_frac", "divergent_frac", "coverage_50",
                        "coverage_80", "coverage_95", "chi2_min_p", "failed_quantities") if c in table]
    return pd.DataFrame([[cell_text(r[c]) for c in cols] for _, r in table.iterrows()], columns=cols)


def sbc_markdown(inputs: ReportInputs) -> str:
    table = sbc_table(inputs)
    if table is None:
        return "No SBC results (nothing under results/sbc/; run `python -m harness sbc`, or pass `--sbc DIR`)."
    if table.empty:
        return "No SBC results for the models of this run."
    return markdown_table(table)


def overview_markdown(inputs: ReportInputs) -> str:
    """The per-backend table beside the overview figure (``overview.backend_table_text``)."""
    return markdown_table(backend_table_text(inputs.cells))


def markdown_report(inputs: ReportInputs, html_name: str | None = "report.html",
                    overview_name: str | None = "overview.png") -> str:
    """The Markdown text; ``overview_name``: the overview figure's file next to it (None: no image link)."""
    verdicts = [(m, model_verdicts(m, inputs.frame[inputs.frame["model"] == m], inputs)) for m in inputs.models()]
    return render("report.md.j2", title=f"ppl-harness report: {inputs.run_dir.name}",
                  provenance=provenance_line(inputs), overview_name=overview_name,
                  overview_table=overview_markdown(inputs), verdicts=verdicts,
                  summary=markdown_summary(inputs.frame), phases=phase_markdown(inputs.frame),
                  phase_line=phase_line(inputs.frame), sbc=sbc_markdown(inputs), html_name=html_name)
