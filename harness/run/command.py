"""``python -m harness run``: benchmark models x backends into a results directory."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.backends import backend_names, default_backends
from harness.catalogue import model_names
from harness.cli_options import add_sampler_arguments, parse_names, sampler_settings
from harness.results import load_results
from harness.run.plan import DEFAULT_TIMEOUT_S, RunPlan, plan_from_settings, stored_manifest
from harness.run.runner import default_run_dir, run
from harness.run.summary import markdown_summary
from harness.settings import SettingsError
from harness.spec import parse_size


def configure(parser) -> None:
    parser.add_argument("--models", help="comma-separated model names, or 'all' (default: all)")
    parser.add_argument("--backends", help=f"comma-separated backends, or 'all' (default: {','.join(default_backends())})")
    add_sampler_arguments(parser)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--size", action="append", default=[], metavar="N=1000,D=10",
                        help="data size of size-scalable models; repeat the option for a sweep")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per cell before it is killed")
    parser.add_argument("--out", type=Path, help="run directory (default: results/runs/<UTC time>)")
    parser.add_argument("--no-equivalence", action="store_true",
                        help="skip the log-density equivalence check written to equivalence.csv")
    parser.add_argument("--save-draws", action="store_true",
                        help="keep each cell's draws as ArviZ InferenceData: <out>/draws/<cell>.nc (arviz.from_netcdf)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="finish the run in DIR: skip cells with a record, redo cells that were running; "
                             "plan options may be left out (the stored plan is used) and must not differ from it")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the cells on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                             "instead of an embedded local cluster")
    parser.add_argument("--workers", type=int,
                        help="workers of the embedded local cluster (default: one per --cores CPUs of this machine)")
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


def command(args) -> int:
    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise SettingsError(f"--resume {args.resume} and --out {args.out} name different run directories; give one")
    plan = build_plan(args)
    out = args.resume or args.out or default_run_dir()
    run(plan, out, progress=not args.no_progress, command=["python", "-m", "harness", *sys.argv[1:]],
        resume=bool(args.resume), scheduler=args.scheduler, workers=args.workers)
    frame, _ = load_results(out)
    print(markdown_summary(frame))
    eq = out / "equivalence.csv"
    if eq.exists():
        import pandas as pd

        table = pd.read_csv(eq)
        bad = table[table["status"] != "pass"]
        print(f"\nlog-density equivalence: {len(table) - len(bad)}/{len(table)} model x backend pairs agree"
              + ("" if bad.empty else "; NOT EQUIVALENT: " + ", ".join(f"{r.model}: {r.a} vs {r.b}" for r in bad.itertuples())))
    elif not args.no_equivalence:
        print(f"\nlog-density equivalence: no result (see {out / 'logs' / 'equivalence.log'})")
    print(f"\nresults: {out}")
    return 0
