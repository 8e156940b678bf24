"""``python -m harness.equivalence --models a,b --backends x,y [--out FILE.csv]``: the equivalence checks of
the runner's equivalence step and of ``harness new-model``, printed as a table (exit 1 when any fails)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from harness.cli_options import add_catalogue_argument, apply_catalogues
    from harness.equivalence import check_long, summarise
    from harness.errors import HarnessInputError
    from harness.results import write_csv_atomic

    parser = argparse.ArgumentParser(prog="python -m harness.equivalence", description=__doc__)
    parser.add_argument("--models", required=True, help="comma-separated model names")
    parser.add_argument("--backends", required=True, help="comma-separated backends")
    parser.add_argument("--points", type=int, default=5, help="start points per model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the start points")
    parser.add_argument("--out", type=Path, help="write the summary table here (CSV)")
    parser.add_argument("--detail", type=Path, help="also write every (size, check, pair) row here")
    add_catalogue_argument(parser)
    args = parser.parse_args(argv)
    try:
        apply_catalogues(args)
        long = check_long(args.models.split(","), args.backends.split(","), args.points, args.seed)
    except HarnessInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table = summarise(long)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(args.out, table)
    if args.detail:
        args.detail.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(args.detail, long)
    from harness.tables import fmt, markdown_table

    rows = [[r.model, r.a, r.b, r.status, r.check or "-", fmt(r.max_abs_diff, "{:.3g}"), fmt(r.tolerance, "{:.3g}"),
             (str(r.error).splitlines()[0][:160] if isinstance(r.error, str) and r.error else "-")]
            for r in table.itertuples()]
    print(markdown_table(rows, ["model", "a", "b", "status", "failed checks", "max abs diff", "tolerance", "why"]))
    if args.detail is None and not table["status"].isin(["pass", "skipped", "not implemented"]).all():
        print("(every row with its full error: --detail FILE.csv)")
    return 0 if table["status"].isin(["pass", "skipped", "not implemented"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
