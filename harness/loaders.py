"""Reading what a report, a comparison or a recommendation is made from.

* benchmark run directories (``harness.results.load_results``), optionally with ``equivalence.csv``;
* SBC directories ``results/sbc/<stamp>/`` with ``summary.csv``, ``figures/<model>__<backend>.png``
  and ``manifest.json`` (written by ``python -m harness sbc``).

Every optional input may be absent: the loaders then return ``None`` (or an empty table) and the
callers say so. Input that exists but cannot be read raises ``ResultsError``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from harness.paths import results_root, sbc_root  # noqa: E402
from harness.results import ResultsError, load_results
from harness.verdicts import equivalence_verdicts, first_line  # noqa: F401 (re-exported)

RESULTS_ROOT = results_root()
SBC_ROOT = sbc_root()
EQUIVALENCE_FILE = "equivalence.csv"
EQUIVALENCE_COLUMNS = ("model", "a", "b", "status")
SBC_COLUMNS = ("model", "backend", "verdict")
REFERENCE = "reference"  # harness.equivalence.REFERENCE, the scipy reference density

# "clean diagnostics" thresholds (the same as the worker's flags)
from harness.diagnostics import ESS_MIN, RHAT_MAX  # noqa: E402,F401 (re-exported for report and recommend)


def _read_csv(path: Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, keep_default_na=True)
    except Exception as err:  # pandas raises several parser error types
        raise ResultsError(f"{what} {path} is not a readable CSV table: {err}") from err
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ResultsError(f"{what} {path} lacks columns {missing}")
    return table


# ---------------------------------------------------------------- benchmark runs


def load_run(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """(tidy table, manifest) with ``size`` as text ('' for fixed-size models) and numeric columns numeric."""
    frame, manifest = load_results(path)
    frame = frame.copy()
    frame["size"] = frame["size"].fillna("").astype(str)
    # records the runner writes itself (timeout, crashed) carry no size: it is in the cell id, model@size__...
    if "cell_id" in frame:
        from_id = frame["cell_id"].fillna("").astype(str).str.extract(r"^[^@]+@(.+?)__", expand=False)
        frame["size"] = frame["size"].mask((frame["size"] == "") & from_id.notna(), from_id)
    if "device" not in frame or frame["device"].isna().all():
        frame["device"] = (manifest.get("settings") or {}).get("device", "cpu")
    frame["device"] = frame["device"].fillna("cpu").astype(str)
    for col in ("compile_s", "warmup_s", "sampling_s", "total_s", "ess_bulk_min", "ess_tail_min", "ess_per_s",
                "ess_per_s_total", "ess_per_grad", "rhat_max", "divergences", "n_grad", "n_grad_warmup",
                "data_size", "repeat", "seed", "chains"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame["error"] = frame["error"].fillna("").astype(str)
    if "run_dir" not in frame:
        frame["run_dir"] = str(run_root(path))
    for col in ("divergent_draws", "sampling_per_grad", "startup_s", "import_s", "overhead_s", "diagnostics_s",
                "write_s"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame, manifest


def run_root(path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_dir() else path.parent


def load_equivalence(run_dir: str | Path) -> pd.DataFrame | None:
    """``<run>/equivalence.csv`` (columns model, a, b, max_abs_diff, tolerance, status, error) or None."""
    path = run_root(run_dir) / EQUIVALENCE_FILE
    if not path.exists():
        return None
    table = _read_csv(path, EQUIVALENCE_COLUMNS, "equivalence table")
    table["error"] = table["error"].fillna("").astype(str) if "error" in table else ""
    return table


# ---------------------------------------------------------------- SBC


def sbc_dirs(root: Path = SBC_ROOT) -> list[Path]:
    """SBC output directories under ``root`` (those with a summary.csv), oldest first by name (a UTC stamp)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "summary.csv").is_file())


def load_sbc(sbc_dir: str | Path) -> pd.DataFrame:
    """One SBC directory's summary.csv, with a ``sbc_dir`` column; ResultsError when unreadable."""
    sbc_dir = Path(sbc_dir)
    if not sbc_dir.exists():
        raise ResultsError(f"SBC directory {str(sbc_dir)!r} does not exist")
    path = sbc_dir / "summary.csv" if sbc_dir.is_dir() else sbc_dir
    if not path.is_file():
        raise ResultsError(f"{str(sbc_dir)!r} is not an SBC output directory (no summary.csv)")
    table = _read_csv(path, SBC_COLUMNS, "SBC summary")
    table["verdict"] = table["verdict"].fillna("inconclusive").astype(str).str.strip().str.lower()
    table["sbc_dir"] = str(path.parent)
    return table


def load_sbc_many(dirs: list[Path]) -> pd.DataFrame | None:
    """Merged SBC summaries; where several cover one model x backend, the last directory given wins."""
    tables = [load_sbc(d) for d in dirs]
    if not tables:
        return None
    merged = pd.concat(tables, ignore_index=True)
    return merged.drop_duplicates(["model", "backend"], keep="last").reset_index(drop=True)


def sbc_in_run(run_dir: str | Path) -> Path | None:
    """An SBC directory stored inside a run directory (``<run>/sbc/summary.csv``), if any."""
    candidate = run_root(run_dir) / "sbc"
    return candidate if (candidate / "summary.csv").is_file() else None


def sbc_figure(row: pd.Series) -> Path | None:
    """The ECDF figure of one SBC summary row, if it exists."""
    path = Path(row["sbc_dir"]) / "figures" / f"{row['model']}__{row['backend']}.png"
    return path if path.is_file() else None


def sbc_verdicts(table: pd.DataFrame | None) -> dict[tuple[str, str], pd.Series]:
    if table is None:
        return {}
    return {(r["model"], r["backend"]): r for _, r in table.iterrows()}


# ---------------------------------------------------------------- small helpers


def backend_order(names) -> list[str]:
    """Backend names in registry order (the order of every table and figure), unknown names last."""
    from harness.backends import REGISTRY

    known = [b for b in REGISTRY if b in set(names)]
    return known + sorted(set(names) - set(known))


def median(values) -> float:
    arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    return float(np.median(arr)) if arr.size else math.nan


def diagnostics_problems(rows: pd.DataFrame) -> list[str]:
    """Why the ok rows of one model x backend do not have clean diagnostics (empty list: clean)."""
    problems = []
    div = pd.to_numeric(rows["divergences"], errors="coerce").fillna(0)
    if (div > 0).any():
        n = int(div.sum())
        problems.append(f"{n} divergent transition{'s' if n != 1 else ''} in {int((div > 0).sum())}/{len(rows)} runs")
    chains = pd.to_numeric(rows.get("chains", pd.Series(dtype=float)), errors="coerce")
    rhat = pd.to_numeric(rows["rhat_max"], errors="coerce")
    multi = chains.fillna(2) > 1
    if (rhat[multi] > RHAT_MAX).any():
        problems.append(f"max R-hat {rhat[multi].max():.3f} > {RHAT_MAX}")
    ess = pd.to_numeric(rows["ess_bulk_min"], errors="coerce")
    if (ess < ESS_MIN).any() or ess.isna().any():
        problems.append(f"min bulk ESS {ess.min():.0f} < {ESS_MIN}")
    return problems


def manifest_of(path: Path) -> dict:
    try:
        return json.loads((Path(path) / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
