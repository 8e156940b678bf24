"""SBC ECDF-difference figures for the report: the PNG an SBC run wrote (``<sbc>/figures/``), or, when
it wrote none (``--no-figures``, or an older run), the same figure drawn now from its ``ranks.csv`` by
``harness.sbc.plots.combo_figure``."""

from __future__ import annotations

import base64
import math
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from harness.loaders import sbc_figure


def _number(row: pd.Series, key: str) -> float:
    value = pd.to_numeric(pd.Series([row.get(key)]), errors="coerce").iloc[0]
    return float(value) if pd.notna(value) else math.nan


def ranks_matrix(ranks: pd.DataFrame, model: str, backend: str) -> tuple[list[str], np.ndarray, int]:
    """(quantity names, ranks of the ok first-stage replicates as an (N, Q) int array, kept draws L)
    of one model x backend from an SBC ``ranks.csv`` table; N = 0 when it has none."""
    mine = ranks[(ranks["model"] == model) & (ranks["backend"] == backend) & (ranks["status"] == "ok")
                 & ranks["quantity"].notna()]
    if "stage" in mine:
        mine = mine[mine["stage"].fillna("screen") == "screen"]
    names = list(dict.fromkeys(mine["quantity"].astype(str)))
    wide = mine.pivot_table(index="replicate", columns="quantity", values="rank", aggfunc="first")
    wide = wide.reindex(columns=names).dropna()
    kept = int(pd.to_numeric(mine["n_kept"], errors="coerce").max()) if len(mine) else 0
    return names, wide.to_numpy(dtype=int).reshape(len(wide), len(names)), kept


def _draw_from_ranks(row: pd.Series) -> bytes | None:
    """The combo figure of one SBC summary row drawn from its directory's ranks.csv (None without one)."""
    from harness.sbc import stats
    from harness.sbc.plots import combo_figure

    path = Path(str(row["sbc_dir"])) / "ranks.csv"
    if not path.is_file():
        return None
    names, ranks, kept = ranks_matrix(pd.read_csv(path), str(row["model"]), str(row["backend"]))
    kept = int(_number(row, "kept")) if math.isfinite(_number(row, "kept")) else kept
    if not names or kept < 1:
        return None
    prob = _number(row, "band_prob")
    if not math.isfinite(prob):
        alpha = _number(row, "alpha")
        prob = stats.band_prob(alpha if math.isfinite(alpha) else stats.DEFAULT_ALPHA, len(names))
    result = SimpleNamespace(names=names, ranks_ok=ranks, prob=prob,
                             row={"model": row["model"], "backend": row["backend"], "verdict": row["verdict"],
                                  "sims": row.get("sims", len(ranks))})
    with tempfile.TemporaryDirectory() as tmp:
        return combo_figure(Path(tmp) / "combo.png", result, kept).read_bytes()


def sbc_png(row: pd.Series) -> tuple[str | None, str]:
    """(base64 PNG or None, where it came from) of one SBC summary row."""
    path = sbc_figure(row)
    if path is not None:
        return base64.b64encode(path.read_bytes()).decode("ascii"), str(path)
    try:
        png = _draw_from_ranks(row)
    except Exception as err:  # a damaged ranks.csv must not cost the whole report
        return None, f"not drawn from ranks.csv: {type(err).__name__}: {err}"
    if png is None:
        return None, f"no ECDF figure and no ranks in {row['sbc_dir']}"
    return base64.b64encode(png).decode("ascii"), f"drawn from {Path(str(row['sbc_dir'])) / 'ranks.csv'}"
