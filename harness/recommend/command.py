"""``python -m harness recommend --model NAME [--device cpu|gpu]``: which backend to use, and why not the others.

Reads every stored run (``results/runs/*``, ``results/baselines/*``, or ``--results DIR``) and every
SBC output (``results/sbc/*``, ``<run>/sbc``, or ``--sbc DIR``); see ``harness.recommend.core`` for
the rules. Prints Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.catalogue import get_model
from harness.loaders import SBC_ROOT, load_sbc, sbc_dirs, sbc_in_run
from harness.recommend.core import TARGET_ESS, load_runs, recommend, run_dirs
from harness.recommend.render import markdown
from harness.results import ResultsError
from harness.settings import DEVICES, SettingsError


def configure(parser) -> None:
    parser.add_argument("--model", required=True, help="catalogue model name")
    parser.add_argument("--device", default="cpu", choices=DEVICES)
    parser.add_argument("--size", help="size label of a size-scalable model, e.g. K=1000 "
                                       "(default: the model's default size)")
    parser.add_argument("--results", type=Path, action="append", default=[], metavar="DIR",
                        help="run directory to read (repeatable; default: every run under results/runs and "
                             "results/baselines)")
    parser.add_argument("--sbc", type=Path, action="append", default=[], metavar="SBC_DIR",
                        help=f"SBC output directory (repeatable; default: every {SBC_ROOT}/<stamp> and <run>/sbc)")
    parser.add_argument("--target-ess", type=int, default=TARGET_ESS,
                        help="effective draws for the time-to-ESS ranking (default %(default)s)")
    parser.add_argument("--allow-missing-sbc", action="store_true",
                        help="rank backends without an SBC result (with a warning) instead of excluding them")


def command(args) -> int:
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
    rec = recommend(args.model, args.device, frame, equivalence, sbc, size=args.size, target_ess=args.target_ess,
                    allow_missing_sbc=args.allow_missing_sbc, sbc_sources=[str(d) for d in sbc_list])
    print(markdown(rec))
    return 0
