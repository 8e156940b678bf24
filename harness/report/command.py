"""``python -m harness report RESULTS_DIR``: HTML report (figures embedded) + Markdown summary.

Writes ``<out>/report.html``, ``<out>/report.md`` and the overview figure ``<out>/overview.png`` and
``.svg`` (default ``<RESULTS_DIR>/report/``), prints the Markdown, and appends it to
``$GITHUB_STEP_SUMMARY`` when that is set (a CI job summary). ``--overview PATH`` writes only the
overview figure (PNG or SVG by the suffix) and prints its per-backend table.

SBC verdicts and ECDF figures come from ``--sbc DIR`` (repeatable), else from ``<RESULTS_DIR>/sbc/``
and every ``results/sbc/<stamp>/`` (the newest directory wins where several cover one model x
backend). Without any, the report says "no SBC results".
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.loaders import SBC_ROOT, load_sbc_many, sbc_dirs, sbc_in_run
from harness.report.markdown import overview_markdown
from harness.report.render import ReportInputs, write_overview_figure, write_report


def configure(parser) -> None:
    parser.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="a run directory of `harness run`")
    parser.add_argument("--sbc", type=Path, action="append", default=[], metavar="SBC_DIR",
                        help=f"SBC output directory (repeatable; default: <RESULTS_DIR>/sbc and every {SBC_ROOT}/<stamp>)")
    parser.add_argument("--no-sbc", action="store_true", help="leave SBC results out")
    parser.add_argument("--out", type=Path, help="output directory (default: RESULTS_DIR/report)")
    parser.add_argument("--overview", type=Path, action="append", default=[], metavar="PATH",
                        help="write only the overview figure (ESS/s of every model x backend relative to the "
                             "model's best) to PATH, PNG or SVG by its suffix (repeatable), print its table, "
                             "and no report; e.g. --overview docs/_static/overview.png")
    parser.add_argument("--job-summary", type=Path, default=os.environ.get("GITHUB_STEP_SUMMARY") or None,
                        help="append the Markdown to this file (default: $GITHUB_STEP_SUMMARY when set)")


def default_sbc_dirs(results_dir: Path) -> list[Path]:
    found = sbc_dirs(SBC_ROOT)
    inside = sbc_in_run(results_dir)
    return found + ([inside] if inside else [])


def overview_only(args) -> int:
    """``--overview PATH``: the figure alone, and its per-backend table on stdout."""
    inputs = ReportInputs.load(args.results_dir)
    write_overview_figure(inputs, list(args.overview))
    print(overview_markdown(inputs))
    print("overview: " + ", ".join(str(p) for p in args.overview))
    return 0


def command(args) -> int:
    if args.overview:
        return overview_only(args)
    dirs = [] if args.no_sbc else (list(args.sbc) or default_sbc_dirs(args.results_dir))
    sbc = load_sbc_many(dirs) if dirs else None
    inputs = ReportInputs.load(args.results_dir, sbc=sbc, sbc_dirs=dirs)
    results_dir = Path(args.results_dir)
    out = args.out or (results_dir if results_dir.is_dir() else results_dir.parent) / "report"
    html_path, md_path, md = write_report(inputs, out)
    print(md)
    if args.job_summary:
        with open(args.job_summary, "a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    print(f"report: {html_path}\nsummary: {md_path}\noverview: {html_path.parent / 'overview.png'}")
    return 0
