"""``python -m harness compare BASELINE NEW``: Markdown table per model x backend x metric; exit 1 on a regression.

Baseline mode: compares against stored results (e.g. the committed ``results/baselines/quick``).
For code or version changes prefer ``python -m harness ab`` (both sides run on this machine, now).

Exit status: 0 no regression, 1 a regression (or, with --strict, an environment difference),
2 unreadable input. See ``harness.compare.rows`` for what each metric is compared with.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.compare.junit import write_junit
from harness.compare.render import markdown
from harness.compare.rows import DEFAULT_MIN_SECONDS, compare_runs
from harness.compare.stats import DEFAULT_ALPHA, DEFAULT_FACTOR
from harness.loaders import load_sbc, sbc_in_run
from harness.settings import SettingsError


def configure(parser) -> None:
    parser.add_argument("baseline", type=Path, metavar="BASELINE", help="baseline run directory")
    parser.add_argument("new", type=Path, metavar="NEW", help="new run directory")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help="a timing is a regression only past this ratio of medians (default %(default)s)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help="significance of the one-sided exact rank (permutation) test (default %(default)s)")
    parser.add_argument("--min-seconds", type=float, default=DEFAULT_MIN_SECONDS,
                        help="timings whose medians differ by less are never regressions (clock resolution; "
                             "default %(default)s)")
    parser.add_argument("--fail-on-deterministic", action="store_true",
                        help="a change of draws or gradient counts fails the gate (default: reported only)")
    parser.add_argument("--strict", action="store_true",
                        help="a different machine, package versions, thread env or settings fails the gate")
    parser.add_argument("--sbc-base", type=Path, help="SBC output of the baseline (default: BASELINE/sbc if present)")
    parser.add_argument("--sbc-new", type=Path, help="SBC output of the new run (default: NEW/sbc if present)")
    parser.add_argument("--only-changes", action="store_true", help="leave rows with verdict ok out of the tables")
    parser.add_argument("--out", type=Path, help="also write the Markdown to this file")
    parser.add_argument("--junit", type=Path, help="also write JUnit XML (one test case per model x backend x metric)")
    parser.add_argument("--job-summary", type=Path, default=os.environ.get("GITHUB_STEP_SUMMARY") or None,
                        help="append the Markdown to this file (default: $GITHUB_STEP_SUMMARY when set)")


def command(args) -> int:
    if not args.factor >= 1.0:
        raise SettingsError(f"--factor must be >= 1, got {args.factor}")
    if not 0.0 < args.alpha < 1.0:
        raise SettingsError(f"--alpha must lie in (0, 1), got {args.alpha}")
    sbc_base_dir = args.sbc_base or sbc_in_run(args.baseline)
    sbc_new_dir = args.sbc_new or sbc_in_run(args.new)
    cmp = compare_runs(
        args.baseline, args.new, factor=args.factor, alpha=args.alpha, min_seconds=args.min_seconds,
        fail_on_deterministic=args.fail_on_deterministic, strict=args.strict,
        base_sbc=load_sbc(sbc_base_dir) if sbc_base_dir else None,
        new_sbc=load_sbc(sbc_new_dir) if sbc_new_dir else None,
    )
    text = markdown(cmp, factor=args.factor, alpha=args.alpha, show_ok=not args.only_changes)
    print(text)
    for path in (args.out,):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.junit:
        write_junit(cmp, args.junit)
    if args.job_summary:
        with open(args.job_summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 1 if cmp.failed else 0
