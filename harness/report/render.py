"""A run directory (+ optional equivalence table and SBC output) -> the report directory:
``report.html`` (self-contained: every figure embedded as a base64 PNG, so it can be mailed or attached
to a CI job as is), ``report.md`` (short enough for a CI job summary) and the overview figure as
``overview.png`` and ``overview.svg`` (``harness.report.overview``).

The pieces: ``facts`` (inputs and what is said about them), ``overview`` (the heatmap and its
per-backend table), ``html`` and ``markdown`` (the two documents, both Jinja2 templates under
``templates/``), ``figures``, ``zscores`` and ``sbc_view`` (the per-model figures).
"""

from __future__ import annotations

import base64
from pathlib import Path

from harness.report.facts import ReportInputs, overview_subtitle
from harness.report.html import html_report
from harness.report.markdown import markdown_report
from harness.report.overview import write_overview

__all__ = ["ReportInputs", "html_report", "markdown_report", "write_overview_figure", "write_report"]

OVERVIEW_FILES = ("overview.png", "overview.svg")


def write_overview_figure(inputs: ReportInputs, paths: list[Path]) -> bytes:
    """Draw the overview of ``inputs`` into every path of ``paths`` (.png or .svg); returns the PNG bytes."""
    return write_overview(inputs.cells, paths, subtitle=overview_subtitle(inputs))


def write_report(inputs: ReportInputs, out_dir: Path) -> tuple[Path, Path, str]:
    """Write report.html, report.md, overview.png and overview.svg into ``out_dir``; returns the paths
    of the HTML and the Markdown, and the Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png = write_overview_figure(inputs, [out_dir / name for name in OVERVIEW_FILES])
    md = markdown_report(inputs, overview_name=OVERVIEW_FILES[0])
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    html_path.write_text(html_report(inputs, base64.b64encode(png).decode("ascii")), encoding="utf-8")
    md_path.write_text(md, encoding="utf-8")
    return html_path, md_path, md
