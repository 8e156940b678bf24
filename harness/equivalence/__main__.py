"""``python -m harness.equivalence --models a,b --backends x,y --out FILE.csv`` (the runner's equivalence step)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd


def main(argv: list[str] | None = None) -> int:
    from harness.equivalence import check_long, summarise
    from harness.results import write_csv_atomic

    parser = argparse.ArgumentParser(prog="python -m harness.equivalence")
    parser.add_argument("--models", required=True)
    parser.add_argument("--backends", required=True)
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--detail", type=Path, help="also write every (size, check, pair) row here")
    args = parser.parse_args(argv)
    long = check_long(args.models.split(","), args.backends.split(","), args.points, args.seed)
    table = summarise(long)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(args.out, table)
    if args.detail:
        args.detail.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(args.detail, long)
    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        print(table.to_string(index=False))
    return 0 if table["status"].isin(["pass", "skipped", "not implemented"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
