"""``python -m harness sbc``: simulation-based calibration of models x backends.

Defaults (``python -m harness sbc`` = ``nox -s sbc``): every catalogue model x every default backend,
1 chain x 500 warm-up x 500 draws per fit, L = 39 kept draws, alpha = 0.05, replicates per backend
from each backend module's ``SBC_REPLICATES`` (``python -m harness list`` shows them; measured costs in
``harness.sbc.plan``), all CPU cores. ``--resume DIR`` continues an interrupted run
and can extend it (``--sims pyro=50``). ``--confirm`` reruns every flagged combination on fresh data
sets, sized for power, and only a confirmed flag is a final ``fail`` (``harness.sbc.summary``).
Replicates run as Dask tasks on an embedded local cluster (one single-threaded worker per core, or
``--cores N`` workers), or with ``--scheduler ADDRESS`` on an existing Dask cluster (``harness.sbc.run``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.backends import backend_names, default_backends
from harness.catalogue import add_catalogue, external_dirs
from harness.cli_options import (
    add_model_selection,
    add_sampler_arguments,
    apply_catalogues,
    parse_names,
    sampler_settings,
    selected_models,
)
from harness.sbc import plan as sbc_plan
from harness.sbc.markdown import markdown_table
from harness.sbc.plan import DEFAULT_BATCH, DEFAULT_TIMEOUT_S, SBC_CHAINS, SBC_DRAWS, SBC_WARMUP, SBCPlan
from harness.sbc.ranks import DEFAULT_KEPT
from harness.sbc.run import run_sbc
from harness.sbc.simulation import METHODS
from harness.sbc.stats import DEFAULT_ALPHA
from harness.sbc.store import SBCStore
from harness.sbc.summary import load_summary
from harness.settings import SettingsError

# options that change ranks: taken from the run directory on --resume, and may not be changed there
_FIXED_ON_RESUME = {"chains": "chains", "warmup": "warmup", "draws": "draws", "target_accept": "target_accept",
                    "max_treedepth": "max_treedepth", "device": "device"}
_SBC_SAMPLER_DEFAULTS = {"chains": SBC_CHAINS, "warmup": SBC_WARMUP, "draws": SBC_DRAWS,
                         "target_accept": 0.8, "max_treedepth": 10, "device": "cpu", "seed": 0}


def configure(parser) -> None:
    add_model_selection(parser)
    parser.add_argument("--method", choices=METHODS, default=None,
                        help="prior: true parameters from the prior (default); posterior: from the reference "
                             "posterior, fits on the observed data plus a replicate (models with real data; "
                             "harness.sbc.simulation)")
    parser.add_argument("--backends", help=f"comma-separated backends, or 'all' (default: {','.join(default_backends())})")
    parser.add_argument(
        "--sims", metavar="N|BACKEND=N,...",
        help="replicates per model x backend: one number for every backend and/or BACKEND=N pairs "
             "(default: each backend's SBC_REPLICATES; `python -m harness list` shows them)")
    parser.add_argument("--alpha", type=float, default=None,
                        help=f"family-wise false-alarm rate of each verdict (default {DEFAULT_ALPHA})")
    add_sampler_arguments(parser, chains=SBC_CHAINS, warmup=SBC_WARMUP, draws=SBC_DRAWS)
    # None = not given: fresh runs fill in the SBC defaults, resumed runs keep their stored values
    parser.set_defaults(**{k: None for k in _SBC_SAMPLER_DEFAULTS}, cores=None)
    for action in parser._actions:
        if action.dest == "cores":
            action.help = ("workers of the embedded Dask cluster, one single-threaded fit each "
                           "(default: one per CPU); not with --scheduler")
        elif action.dest in _SBC_SAMPLER_DEFAULTS:
            action.help = (action.help + "; " if action.help else "") + f"default {_SBC_SAMPLER_DEFAULTS[action.dest]}"
    parser.add_argument("--kept", type=int, default=None,
                        help=f"posterior draws kept per replicate after thinning; ranks lie in 0..kept (default {DEFAULT_KEPT})")
    parser.add_argument("--batch", type=int, default=None,
                        help=f"replicates per vectorised call for backends with sample_batch (default {DEFAULT_BATCH})")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds per task (one batch or replicate) before its fit process is killed (default {DEFAULT_TIMEOUT_S:.0f})")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the replicates on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                             "instead of an embedded local cluster; its workers need the harness and the backends "
                             "installed (plain workers run one replicate task per thread; workers that declare a "
                             "'cores' resource get tasks claiming cores=1)")
    parser.add_argument("--out", type=Path, help="run directory (default: results/sbc/<UTC time>)")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="continue the SBC run in DIR (its settings; --sims/--models/--backends may extend it)")
    parser.add_argument("--confirm", action="store_true",
                        help="rerun every flagged model x backend on fresh data sets (a separate seed stream, "
                             "replicates sized for power); only a confirmed flag is a final fail (Holm over the run)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--figures", action="store_true",
                        help="also draw one ECDF and rank-histogram figure per model x backend into <run>/figures "
                             "(`harness report` draws them for its report either way)")
    parser.add_argument("--no-figures", action="store_true", help="no figures (the default; kept for scripts)")


def sims_overrides(text: str | None, backends: list[str]) -> dict[str, int]:
    """Only what ``--sims`` names: '200' -> every backend 200; 'numpyro=1000,pyro=10' -> those two."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in (text or "").split(",") if p.strip()):
        key, sep, value = part.rpartition("=")
        try:
            n = int(value)
        except ValueError:
            raise SettingsError(f"--sims {text!r}: {value!r} is not a whole number") from None
        if n < 1:
            raise SettingsError(f"--sims must be at least 1, got {n}")
        if not sep:
            out.update({b: n for b in backends})
        elif key.strip() not in backends:
            raise SettingsError(f"--sims {text!r}: {key.strip()!r} is not one of the selected backends ({', '.join(backends)})")
        else:
            out[key.strip()] = n
    return out


def parse_sims(text: str | None, backends: list[str]) -> dict[str, int]:
    """Replicates per backend: the defaults, then what ``--sims`` names."""
    return {**sbc_plan.default_sims(backends), **sims_overrides(text, backends)}


def _fresh_plan(args) -> SBCPlan:
    for key, value in _SBC_SAMPLER_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args_cores, args.cores = args.cores, 1  # every fit runs on one core; --cores sizes the pool
    settings = sampler_settings(args)
    args.cores = args_cores
    backends = parse_names(args.backends, backend_names(), default_backends())
    return SBCPlan(
        models=selected_models(args),
        method=args.method or "prior",
        catalogues=[str(d) for d in external_dirs()],
        backends=backends,
        sims=parse_sims(args.sims, backends),
        settings=settings,
        kept=DEFAULT_KEPT if args.kept is None else args.kept,
        alpha=DEFAULT_ALPHA if args.alpha is None else args.alpha,
        root_seed=args.seed,
        batch=DEFAULT_BATCH if args.batch is None else args.batch,
        timeout_s=DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout,
    )


def _resumed_plan(args) -> SBCPlan:
    if args.out is not None:
        raise SettingsError("give either --out or --resume, not both")
    if not args.resume.is_dir():
        raise SettingsError(f"--resume {str(args.resume)!r}: no such directory")
    plan = SBCPlan.from_dict(SBCStore(args.resume).read_plan())
    for directory in plan.catalogues:  # the resumed run's external catalogues
        add_catalogue(directory)
    if args.method is not None and args.method != plan.method:
        raise SettingsError(f"--method {args.method} differs from the resumed run's {plan.method}; it cannot change on resume")
    stored = plan.settings.to_dict()
    for opt, key in _FIXED_ON_RESUME.items():
        value = getattr(args, opt)
        if value is not None and value != stored[key]:
            raise SettingsError(f"--{opt.replace('_', '-')} {value} differs from the resumed run's {stored[key]}; "
                                "settings that change ranks cannot change on resume")
    for opt, current in (("seed", plan.root_seed), ("kept", plan.kept), ("batch", plan.batch)):
        value = getattr(args, opt)
        if value is not None and value != current:
            raise SettingsError(f"--{opt} {value} differs from the resumed run's {current}; it cannot change on resume")
    if args.models or args.tags:
        plan.models += [m for m in selected_models(args) if m not in plan.models]
    if args.backends:
        plan.backends += [b for b in parse_names(args.backends, backend_names(), []) if b not in plan.backends]
    new = sims_overrides(args.sims, plan.backends)
    for b in plan.backends:  # stored replicates are never dropped: sims can only grow
        plan.sims[b] = max(plan.sims.get(b, 0), new.get(b, 0)) or sbc_plan.default_sims([b])[b]
    if args.alpha is not None:
        plan.alpha = args.alpha
    if args.timeout is not None:
        plan.timeout_s = args.timeout
    return plan


def command(args) -> int:
    if args.cores is not None and args.cores < 1:
        raise SettingsError(f"--cores must be a positive integer, got {args.cores}")
    if args.cores is not None and args.scheduler:
        raise SettingsError("--cores sizes the embedded cluster; the cluster at --scheduler has its own workers")
    apply_catalogues(args)
    plan = _resumed_plan(args) if args.resume else _fresh_plan(args)
    sbc_plan.validate(plan)
    out = args.resume or args.out or sbc_plan.default_run_dir()
    if args.scheduler:
        where = f"Dask cluster at {args.scheduler}"
    else:
        from harness.cluster import local_worker_count

        where = f"{local_worker_count(1, plan.settings.device, args.cores)} worker(s) on an embedded Dask cluster"
    s = plan.settings
    print(f"SBC plan ({plan.method} SBC): {len(plan.models)} model(s) x {len(plan.backends)} backend(s); replicates "
          + ", ".join(f"{b} {plan.sims[b]}" for b in plan.backends)
          + f"; {s.chains} chain(s) x {s.warmup} warm-up x {s.draws} draws, L = {plan.kept}, alpha = {plan.alpha}, "
          f"seed {plan.root_seed}; {where}; run directory {out}", file=sys.stderr, flush=True)
    try:
        run_sbc(plan, Path(out), cores=args.cores, progress=not args.no_progress,
                command=["python", "-m", "harness", *sys.argv[1:]], figures=args.figures and not args.no_figures,
                confirm=args.confirm, scheduler=args.scheduler)
    except KeyboardInterrupt:
        from harness.sbc.summary import write_outputs

        if (Path(out) / "replicates.jsonl").is_file():
            write_outputs(Path(out), figures=False)  # the tables of what was measured
        print(f"\ninterrupted; finished replicates are stored. Continue with: python -m harness sbc --resume {out}",
              file=sys.stderr)
        return 130
    summary = load_summary(Path(out))
    print(markdown_table(summary))
    from harness.sbc.timing import one_line

    print(f"\n{one_line(SBCStore(Path(out)).timing())}")
    print(f"results: {out}")
    return 0
