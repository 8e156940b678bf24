"""``python -m harness recommend --model NAME [--device cpu|gpu]``: which backend to use, and why not the others;
``--by-class``: rankings per model class and over all models.

Reads every stored run (``results/runs/*``, ``results/baselines/*``, or ``--results DIR``) and every
SBC output (``results/sbc/*``, ``<run>/sbc``, or ``--sbc DIR``); see ``harness.recommend.core`` for
the rules. Prints Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.catalogue import get_model
from harness.cli_options import add_catalogue_argument, apply_catalogues
from harness.loaders import SBC_ROOT, load_sbc, sbc_dirs, sbc_in_run
from harness.recommend.core import TARGET_ESS, load_runs, recommend, run_dirs
from harness.recommend.render import markdown
from harness.results import ResultsError
from harness.settings import DEVICES, SettingsError


def configure(parser) -> None:
    parser.add_argument("--model", help="catalogue model name (or --by-class)")
    parser.add_argument("--by-class", action="store_true",
                        help="rank the backends per model class (and over all models) instead of for one model")
    parser.add_argument("--classes", help="with --by-class: only these classes, comma-separated (default: every "
                                          "class with results)")
    parser.add_argument("--device", default="cpu", choices=DEVICES, help="the device the runs were made on")
    add_catalogue_argument(parser)
    parser.add_argument("--size", help="size label of a size-scalable model, e.g. K=1000 "
                                       "(default: the model's default size)")
    parser.add_argument("--results", type=Path, action="append", default=[], metavar="DIR",
                        help="run directory to read (repeatable; default: every run under results/runs and "
                             "results/baselines)")
    parser.add_argument("--sbc", type=Path, action="append", default=[], metavar="SBC_DIR",
                        help=f"SBC output directory (repeatable; default: every {SBC_ROOT}/<stamp> and <run>/sbc)")
    parser.add_argument("--target-ess", type=int, default=TARGET_ESS,
                        help="effective draws for the time-to-ESS ranking")
    parser.add_argument("--allow-missing-sbc", action="store_true",
                        help="count a backend without an SBC result as validated (with a warning) instead of "
                             "provisional")
    parser.epilog = """examples:
  python -m harness recommend --model eight_schools_noncentered
  python -m harness recommend --by-class
  python -m harness recommend --model radon_variable_intercept_centered --results results/runs/bench-20261206T120000Z
"""


def command(args) -> int:
    apply_catalogues(args)
    if not args.model and not args.by_class:
        raise SettingsError("give --model NAME (one model) or --by-class (rankings per model class)")
    if args.model:
        get_model(args.model)  # unknown model: an error listing the catalogue
    if args.target_ess < 1:
        raise SettingsError(f"--target-ess must be a positive integer, got {args.target_ess}")
    dirs = list(args.results) or run_dirs()
    if not dirs:
        raise ResultsError("no stored results: nothing under results/runs or results/baselines "
                           "(run `python -m harness run`, or pass --results DIR)")
    frame, equivalence = load_runs(dirs)
    sbc_list = list(args.sbc) or (sbc_dirs(SBC_ROOT) + [d for d in map(sbc_in_run, dirs) if d])
    # every directory's rows: ``recommend`` keeps, per model x backend, the one with most replicates
    sbc = pd.concat([load_sbc(d) for d in sbc_list], ignore_index=True) if sbc_list else None
    if args.by_class:
        from harness.recommend.classes import class_rankings
        from harness.recommend.render import class_markdown

        classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
        if classes:
            from harness.catalogue import select

            select(classes)  # an unknown class: an error listing the valid ones
        print(class_markdown(class_rankings(frame, equivalence, sbc, args.device, classes)))
        return 0
    rec = recommend(args.model, args.device, frame, equivalence, sbc, size=args.size, target_ess=args.target_ess,
                    allow_missing_sbc=args.allow_missing_sbc, sbc_sources=[str(d) for d in sbc_list])
    print(markdown(rec))
    return 0
