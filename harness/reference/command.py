"""``python -m harness reference``: make reference posteriors for catalogue models (default size).

One model at a time, in this process, on ``--cores`` threads (default 1). ``--backend`` makes the
reference (default: chosen by capability, see ``harness.reference.core.default_backend``);
``--check-backend`` (default: the same rule outside the reference backend's family; ``none`` to
skip) checks it. Writes ``results/references/<model>/`` (or ``--out``); see ``harness.reference.core``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.settings import SettingsError
from harness.tables import markdown_table


def configure(parser) -> None:
    from harness.cli_options import add_model_selection
    from harness.reference import core

    add_model_selection(parser)
    parser.add_argument("--backend", help="backend that makes the reference (default: by capability)")
    parser.add_argument("--check-backend", help="second backend to check it against ('none' to skip; "
                                                "default: by capability, another implementation family)")
    parser.add_argument("--out", type=Path, help="reference root (default results/references of this checkout)")
    parser.add_argument("--chains", type=int, default=core.CHAINS, help="chains of the reference run")
    parser.add_argument("--warmup", type=int, default=core.WARMUP, help="warm-up iterations per chain")
    parser.add_argument("--draws", type=int, default=core.DRAWS, help="first try of draws per chain (grows until "
                                                                      "min bulk ESS >= --thinned)")
    parser.add_argument("--max-draws", type=int, default=core.MAX_DRAWS,
                        help="most draws per chain before the model gets a REASON.md")
    parser.add_argument("--thinned", type=int, default=core.THINNED, help="near-independent draws kept")
    parser.add_argument("--ess-target", type=int, default=None,
                        help="min bulk ESS of the run the summary is made from (default: 40,000 for small models, "
                             "10,000 for medium and large ones)")
    parser.add_argument("--target-accept", type=float, default=0.8, help="step-size adaptation target")
    parser.add_argument("--seed", type=int, default=0, help="root seed of the reference run")
    parser.add_argument("--cores", type=int, default=1, help="threads for the fits (default 1)")
    parser.add_argument("--score", type=Path, metavar="RUN",
                        help="instead of making references: give the ok cells of a stored run made with "
                             "--save-draws their accuracy verdicts (cells that have none)")
    parser.add_argument("--rescore", action="store_true", help="with --score: every ok cell, even one already scored")
    parser.add_argument("--import-posteriordb", type=Path, metavar="DIR",
                        help="instead of sampling: import posteriordb's reference draws for the models (those that "
                             "declare SPEC.posteriordb) from a posteriordb checkout DIR")


def command(args) -> int:
    from harness.threads import worker_env

    if args.score:
        from harness.accuracy import score_run

        print(f"{score_run(args.score, args.out, force=args.rescore)} cells scored in {args.score}")
        return 0

    if args.import_posteriordb:
        return _import(args)
    os.environ.update(worker_env(args.cores, "cpu"))  # before any PPL is imported
    from harness.backends import load_module, validate_backends
    from harness.catalogue import families_present, get_model, validate_models
    from harness.cli_options import selected_models
    from harness.reference import core

    models = selected_models(args)
    validate_models(models)
    named = [b for b in (args.backend, args.check_backend) if b and b.lower() != "none"]
    if named:
        validate_backends(named)
    if args.chains < 10:
        print(f"warning: {args.chains} chains; posteriordb's reference definition asks for at least 10",
              file=sys.stderr)
    if args.cores < 1:
        raise SettingsError(f"--cores must be a positive integer, got {args.cores}")
    root = args.out
    rows = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for model in models:
        if get_model(model).exact_posterior is not None:
            ref = core.generate_exact(model, thinned=args.thinned, seed=args.seed, log=log)
        else:
            present = list(families_present(model))
            backend = args.backend or core.default_backend(families=present)
            check = args.check_backend
            if check is None:
                family = load_module(backend).CAPABILITIES.family
                try:
                    check = core.default_backend(exclude_family=family, families=present)
                except RuntimeError:
                    log(f"{model}: no second family to check the reference against (the model brings {present})")
                    check = None
            elif check.lower() == "none":
                check = None
            ref = core.generate(model, backend, check, chains=args.chains, warmup=args.warmup, draws=args.draws,
                                max_draws=args.max_draws, thinned=args.thinned, ess_target=args.ess_target,
                                seed=args.seed, cores=args.cores, target_accept=args.target_accept, log=log)
        folder = core.write(ref, root, ["python", "-m", "harness", *sys.argv[1:]])
        rows.append(ref)
        log(f"{model}: {'reference' if ref.valid else 'NO reference (REASON.md)'} -> {folder}"
            + ("" if ref.valid else ": " + "; ".join(ref.problems)))
    print(markdown(rows))
    return 0


def _import(args) -> int:
    from harness.catalogue import get_model, model_names
    from harness.cli_options import apply_catalogues, parse_names
    from harness.reference import core
    from harness.reference.posteriordb import import_reference

    apply_catalogues(args)
    with_pdb = [m for m in model_names() if get_model(m).posteriordb]
    models = parse_names(args.models, with_pdb, with_pdb)
    root = args.out
    for model in models:
        ref = import_reference(model, args.import_posteriordb)
        folder = core.write(ref, root, ["python", "-m", "harness", *sys.argv[1:]])
        print(f"{model}: imported {ref.facts['source']['posteriordb']} -> {folder}", file=sys.stderr, flush=True)
    return 0


def markdown(refs) -> str:
    rows = []
    for r in refs:
        f = r.facts
        b = f.get("ebfmi")
        bfmi = f"{min(b):.2f}" if isinstance(b, list) else "n/a"
        c = f.get("check") or {}
        check = (f"{c.get('backend')}: {c.get('accuracy')} (worst {c.get('accuracy_worst')}, "
                 f"z {c.get('accuracy_z', float('nan')):.2f})") if c else "-"
        rows.append([r.model, r.size or "-", r.backend, f["settings"]["draws"], f"{f['ess_bulk_min']:.0f}",
                     f"{f['rhat_max']:.4f}", f["divergences"], bfmi, check,
                     "valid" if r.valid else "REASON.md: " + "; ".join(r.problems)])
    return markdown_table(rows, ["model", "size", "backend", "draws/chain", "min bulk ESS", "max R-hat", "divergences",
                                 "E-BFMI min", "check", "status"])
