"""``python -m harness run``: benchmark models x backends into a results directory.

Every backend gets the same chains, warm-up, draws, target acceptance, tree depth, seeds and core budget;
each cell runs in its own process with a time budget (``--timeout``). ``--suite standard|full`` picks the
models and the budget of a benchmark suite (``harness.run.suites``) and prints what the run will do and
cost before it starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.backends import backend_names, default_backends
from harness.catalogue import model_names
from harness.cli_options import (
    add_model_selection,
    add_sampler_arguments,
    apply_catalogues,
    parse_names,
    sampler_settings,
    selected_models,
)
from harness.results import load_results
from harness.run.plan import DEFAULT_TIMEOUT_S, RunPlan, plan_from_settings, stored_manifest
from harness.run.runner import default_run_dir, run
from harness.run.summary import markdown_summary
from harness.settings import SettingsError
from harness.spec import parse_size

EXAMPLES = """examples:
  python -m harness run --models eight_schools_noncentered --backends numpyro,stan --repeats 3
  python -m harness run --suite standard                 the default benchmark (nox -s bench)
  python -m harness run --suite full --scheduler tcp://10.0.0.5:8786
  python -m harness run --tags gp --size N=200 --dry-run  what a run would do and cost
  python -m harness run --resume results/runs/20261130T122326Z
"""


def configure(parser) -> None:
    from harness.run.suites import SUITES

    add_model_selection(parser)
    parser.add_argument("--suite", choices=list(SUITES),
                        help="a benchmark suite: " + "; ".join(f"{k}: {v.description}" for k, v in SUITES.items())
                             + " (sets the models unless --models or --tags is given, and the per-cell budget "
                               "unless --timeout is given)")
    parser.add_argument("--backends", help=f"comma-separated backends, or 'all' (default: {','.join(default_backends())})")
    add_sampler_arguments(parser)
    parser.add_argument("--repeats", type=int, default=1, help="independent runs of every cell (distinct seeds)")
    parser.add_argument("--size", action="append", default=[], metavar="N=1000,D=10",
                        help="data size of size-scalable models; repeat the option for a sweep")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help="seconds per cell before it is killed and recorded as a timeout (its time budget)")
    parser.add_argument("--out", type=Path, help="run directory (default: results/runs/<UTC time>)")
    parser.add_argument("--no-equivalence", action="store_true",
                        help="skip the log-density equivalence check written to equivalence.csv")
    parser.add_argument("--save-draws", action="store_true",
                        help="keep each cell's draws as ArviZ InferenceData: <out>/draws/<cell>.nc (arviz.from_netcdf)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and its cost estimate, run nothing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="finish the run in DIR: skip cells with a record, redo cells that were running; "
                             "plan options may be left out (the stored plan is used) and must not differ from it")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the cells on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                             "instead of an embedded local cluster")
    parser.add_argument("--workers", type=int,
                        help="workers of the embedded local cluster (default: one per --cores CPUs of this machine)")
    parser.epilog = EXAMPLES
    # plan options left out are None: a new run fills in the defaults, --resume the stored plan
    defaults = {dest: parser.get_default(dest) for dest in PLAN_OPTIONS}
    parser.set_defaults(_plan_defaults=defaults, **{dest: None for dest in PLAN_OPTIONS})


# option dest -> RunPlan / SamplerSettings field
PLAN_OPTIONS = {
    "models": "models", "backends": "backends", "chains": "chains", "warmup": "warmup", "draws": "draws",
    "target_accept": "target_accept", "max_treedepth": "max_treedepth", "device": "device", "cores": "cores",
    "seed": "root_seed", "repeats": "repeats", "size": "sizes", "timeout": "timeout_s", "save_draws": "save_draws",
}


def _plan_value(dest: str, value):
    if dest == "models":
        return parse_names(value, model_names(), model_names())
    if dest == "backends":
        return parse_names(value, backend_names(), default_backends())
    if dest == "size":
        return [parse_size(s) for s in value]
    return value


def build_plan(args) -> RunPlan:
    """The plan from the command line; with ``--resume`` the stored plan, with any options given on top."""
    from harness.run.suites import SUITES, suite_models

    apply_catalogues(args)
    if getattr(args, "suite", None):
        if args.models is None and not getattr(args, "tags", None):
            args.models = ",".join(suite_models(args.suite))
        if args.timeout is None:
            args.timeout = SUITES[args.suite].timeout_s
    if getattr(args, "tags", None) and not args.resume:
        args.models = ",".join(selected_models(args))
    given = {dest: getattr(args, dest) for dest in PLAN_OPTIONS if getattr(args, dest, None) is not None}
    if args.resume:
        stored = stored_manifest(args.resume)["settings"]
        plan = plan_from_settings(stored, **{PLAN_OPTIONS[d]: _plan_value(d, v) for d, v in given.items()})
        plan.equivalence = not args.no_equivalence
        return plan
    values = {**args._plan_defaults, **given}
    for dest, value in values.items():
        setattr(args, dest, value)
    return RunPlan(
        models=_plan_value("models", args.models),
        backends=_plan_value("backends", args.backends),
        settings=sampler_settings(args),
        repeats=args.repeats,
        root_seed=args.seed,
        sizes=_plan_value("size", args.size),
        timeout_s=args.timeout,
        equivalence=not args.no_equivalence,
        save_draws=bool(args.save_draws),
    )


def _print_plan(plan: RunPlan, args) -> None:
    """What the run will do and its estimated wall time (stderr), before anything starts."""
    from harness.cluster import local_worker_count
    from harness.run.plan import plan_cells, validate
    from harness.run.suites import describe

    validate(plan)
    workers = local_worker_count(plan.settings.cores, plan.settings.device, args.workers) if not args.scheduler else 1
    note = "" if not args.scheduler else " (on a cluster: divide by its workers)"
    print(describe(plan, plan_cells(plan), workers, getattr(args, "suite", None)) + note, file=sys.stderr, flush=True)


def command(args) -> int:
    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise SettingsError(f"--resume {args.resume} and --out {args.out} name different run directories; give one")
    plan = build_plan(args)
    out = args.resume or args.out or default_run_dir()
    _print_plan(plan, args)
    if args.dry_run:
        return 0
    run(plan, out, progress=not args.no_progress, command=["python", "-m", "harness", *sys.argv[1:]],
        resume=bool(args.resume), scheduler=args.scheduler, workers=args.workers)
    frame, _ = load_results(out)
    print(markdown_summary(frame))
    from harness.run.summary import phase_line, phase_markdown

    phases = phase_markdown(frame)
    if phases:
        print("\nWhere the time went (seconds summed over each backend's cells):\n\n" + phases)
        print(f"\n{phase_line(frame)}")
    eq = out / "equivalence.csv"
    if eq.exists():
        import pandas as pd

        from harness.run.summary import equivalence_line

        print("\n" + equivalence_line(pd.read_csv(eq)))
    elif not args.no_equivalence:
        print(f"\nlog-density equivalence: no result (see {out / 'logs' / 'equivalence.log'})")
    print(f"\nresults: {out}")
    return 0
