"""``python -m harness ab --a ENV --b ENV``: interleaved A/B runs on one machine, then the regression gate.

Runs the selected cells alternately with side A and side B (see ``harness.ab.engine``), merges each
side into ``OUT/a`` and ``OUT/b`` and compares them with ``harness compare``'s rules: Markdown in
``OUT/compare.md`` (and ``$GITHUB_STEP_SUMMARY``), JUnit XML in ``OUT/junit.xml``.
Exit status: 0 no regression, 1 a regression of B against A, 2 bad input or a side that failed.
The defaults select the quick suite (``harness.compare.quick``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.ab.engine import ABPlan, run_ab
from harness.ab.envs import parse_assignments, resolve_env
from harness.compare.junit import write_junit
from harness.compare.quick import QUICK_SUITE
from harness.compare.render import markdown
from harness.compare.rows import DEFAULT_MIN_SECONDS, compare_runs
from harness.compare.stats import DEFAULT_ALPHA, DEFAULT_FACTOR
from harness.paths import runs_root, stamped
from harness.settings import SettingsError


def configure(parser) -> None:
    parser.add_argument("--a", required=True, metavar="ENV",
                        help="side A (the reference): 'current', an interpreter path, a requirement set "
                             "('numpyro==0.21.0 jax==0.10.2') or a git ref of this project")
    parser.add_argument("--b", default="current", metavar="ENV", help="side B, compared against A (default: current)")
    parser.add_argument("--a-env", action="append", metavar="NAME=VALUE", help="extra environment variable for side A")
    parser.add_argument("--b-env", action="append", metavar="NAME=VALUE", help="extra environment variable for side B")
    parser.add_argument("--base-python", default=sys.executable,
                        help="interpreter under requirement-set overlays and git-ref sides (default: this one)")
    q: dict = QUICK_SUITE
    parser.add_argument("--models", default=",".join(q["models"]), help="comma-separated (default: the quick suite's)")
    parser.add_argument("--backends", default=",".join(q["backends"]), help="comma-separated (default: the quick suite's)")
    parser.add_argument("--chains", type=int, default=q["chains"], help="chains per fit")
    parser.add_argument("--warmup", type=int, default=q["warmup"], help="warm-up iterations per chain")
    parser.add_argument("--draws", type=int, default=q["draws"], help="kept iterations per chain")
    parser.add_argument("--size", action="append", metavar="N=1000,D=10",
                        help=f"data size of the models it fits (default: {' '.join(q.get('sizes', [])) or 'none'})")
    parser.add_argument("--repeats", type=int, default=q["repeats"], help="repeats per side (default %(default)s)")
    parser.add_argument("--seed", type=int, default=q["seed"], help="repeat k of both sides uses seed + k")
    parser.add_argument("--cores", type=int, default=1, help="core budget per cell")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per cell")
    parser.add_argument("--out", type=Path, help="output directory (default: results/runs/ab-<UTC time>)")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help="a metric worse by more than this ratio (and significant) is a regression")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="significance level of each timing test")
    parser.add_argument("--min-seconds", type=float, default=DEFAULT_MIN_SECONDS,
                        help="timings whose medians differ by less are never a regression")
    parser.add_argument("--fail-on-deterministic", action="store_true",
                        help="a change of draws or gradient counts with the same library versions fails")
    parser.add_argument("--strict", action="store_true", help="environment differences fail the gate")
    parser.add_argument("--only-changes", action="store_true", help="leave rows with verdict ok out of the tables")
    parser.add_argument("--junit", type=Path, help="JUnit XML (default: OUT/junit.xml)")
    parser.add_argument("--job-summary", type=Path, default=os.environ.get("GITHUB_STEP_SUMMARY") or None,
                        help="append the Markdown to this file (default: $GITHUB_STEP_SUMMARY when set)")
    parser.add_argument("--no-prime", action="store_true",
                        help="skip the unmeasured first run of each model on each side (it fills compile caches)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args) -> int:
    if not args.factor >= 1.0:
        raise SettingsError(f"--factor must be >= 1, got {args.factor}")
    if not 0.0 < args.alpha < 1.0:
        raise SettingsError(f"--alpha must lie in (0, 1), got {args.alpha}")
    if args.repeats < 1:
        raise SettingsError(f"--repeats must be a positive integer, got {args.repeats}")
    out = args.out or stamped(runs_root(), "ab-")
    plan = ABPlan(
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        chains=args.chains, warmup=args.warmup, draws=args.draws,
        sizes=args.size if args.size is not None else list(QUICK_SUITE.get("sizes", [])),  # type: ignore[call-overload]
        repeats=args.repeats, seed=args.seed, cores=args.cores, timeout_s=args.timeout, prime=not args.no_prime,
    )
    from harness.backends import validate_backends
    from harness.catalogue import validate_models

    validate_models(plan.models)
    validate_backends(plan.backends)
    env_a = resolve_env(args.a, base_python=args.base_python, extra_env=parse_assignments(args.a_env))
    env_b = resolve_env(args.b, base_python=args.base_python, extra_env=parse_assignments(args.b_env))
    for label, env in (("A", env_a), ("B", env_b)):
        extra = " ".join(f"{k}={v}" for k, v in env.extra_env.items())
        print(f"side {label}: {env.spec} ({env.kind}) python={env.python} checkout={env.root}"
              + (f" commit={env.commit[:10]}" if env.commit else "") + (f" env: {extra}" if extra else ""),
              file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    dir_a, dir_b = run_ab(env_a, env_b, plan, out, progress=not args.no_progress,
                          command=["python", "-m", "harness", *sys.argv[1:]])
    cmp = compare_runs(dir_a, dir_b, factor=args.factor, alpha=args.alpha, min_seconds=args.min_seconds,
                       fail_on_deterministic=args.fail_on_deterministic, strict=args.strict)
    text = markdown(cmp, factor=args.factor, alpha=args.alpha, show_ok=not args.only_changes,
                    title=f"ppl-harness A/B: `{env_a.spec}` (A) vs `{env_b.spec}` (B)")
    print(text)
    (out / "compare.md").write_text(text, encoding="utf-8")
    junit = write_junit(cmp, args.junit or out / "junit.xml")
    print(f"A: {dir_a}\nB: {dir_b}\nMarkdown: {out / 'compare.md'}\nJUnit: {junit}", file=sys.stderr)
    if args.job_summary:
        with open(args.job_summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 1 if cmp.failed else 0
