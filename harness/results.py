"""The results store: one JSON record per cell, written atomically, plus a tidy table and a manifest.

Layout of a run directory::

    <run>/manifest.json        provenance (harness.provenance.collect) and the run's settings
    <run>/cells/<cell>.json    one record per model x backend x repeat, written when the cell ends
    <run>/results.csv          all records as one tidy table, rewritten atomically after each cell
    <run>/results.parquet      the same table for programs (pyarrow), schema version in its metadata
    <run>/draws/<cell>.nc      with ``--save-draws``: each ok cell's fit as ArviZ InferenceData

A run killed at any moment leaves valid files: every file is written to a temporary name and renamed.
Both tables carry ``schema_version``; readers accept versions up to ``SCHEMA_VERSION`` (a table
without one is version 1, the format before the column existed) and refuse newer ones clearly.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessInputError

# version of the results table's columns and meaning; bump when a column changes meaning or goes
SCHEMA_VERSION = 2
PARQUET_SCHEMA_KEY = b"ppl_harness_schema_version"

# columns every record has, in table order
COLUMNS = [
    "schema_version", "model", "size", "backend", "sampler", "repeat", "status", "device", "seed",
    "compile_s", "cache_hit", "warmup_s", "sampling_s", "total_s",
    "ess_bulk_min", "ess_tail_min", "ess_per_s", "ess_per_s_total", "ess_per_grad",
    "rhat_max", "divergences", "n_grad", "n_grad_warmup", "mean_tree_steps", "ess_worst_param",
    "chains", "warmup", "draws", "target_accept", "max_treedepth", "cores",
    "data_size", "peak_rss_mb", "peak_device_mb", "sample_wall_s", "sample_cpu_s", "draws_digest", "backend_info", "versions", "error", "cell_id",
]

STATUSES = ("ok", "failed", "timeout", "crashed", "unavailable", "skipped", "not implemented")


class ResultsError(HarnessInputError):
    """A results file or directory that cannot be read as harness results."""


def write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=1, default=json_default, allow_nan=True)
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def json_default(obj):
    """``json.dump(default=...)`` for numpy scalars and arrays: the harness's one numpy-to-JSON encoder."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def write_csv_atomic(path: Path, frame: pd.DataFrame) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def write_parquet_atomic(path: Path, frame: pd.DataFrame) -> None:
    """The table as parquet with ``SCHEMA_VERSION`` in the file's metadata (mixed object columns as text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_arrow_ready(frame), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           PARQUET_SCHEMA_KEY: str(SCHEMA_VERSION).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix types (True/None/NaN, numbers and text) become one Arrow-friendly type."""
    out = frame.copy()
    for col in out.columns[out.dtypes == object]:  # noqa: E721 (an elementwise pandas comparison)
        values = out[col].dropna()
        if values.map(lambda v: isinstance(v, (bool, np.bool_))).all() and len(values):
            out[col] = out[col].astype("boolean")
        elif not values.map(lambda v: isinstance(v, str)).all():
            out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def check_schema(version, source) -> None:
    """Refuse a table written by a newer harness (its columns may mean something else)."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ResultsError(f"{source}: schema_version {version!r} is not a number") from None
    if not 1 <= version <= SCHEMA_VERSION:
        raise ResultsError(f"{source} has results schema version {version}; this harness reads versions "
                           f"1 to {SCHEMA_VERSION} (upgrade ppl-harness to read it)")


def read_table(path: Path) -> pd.DataFrame:
    """A results table from ``results.parquet`` or ``results.csv``, schema checked."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # pyarrow raises several error types for bad files
            raise ResultsError(f"{path} is not a readable parquet table: {err}") from err
        meta = table.schema.metadata or {}
        check_schema(meta.get(PARQUET_SCHEMA_KEY, b"1").decode(), path)
        return table.to_pandas()
    try:
        frame = pd.read_csv(path)
    except Exception as err:  # pandas raises several parser error types
        raise ResultsError(f"{path} is not a readable CSV table: {err}") from err
    if "schema_version" in frame.columns:
        for version in frame["schema_version"].dropna().unique():
            check_schema(version, path)
    return frame


def cell_id(model: str, size: str, backend: str, repeat: int, device: str) -> str:
    size_part = f"@{size}" if size else ""
    return f"{model}{size_part}__{backend}__{device}__r{repeat}"


class RunStore:
    """Writes one run directory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "cells").mkdir(parents=True, exist_ok=True)

    def write_manifest(self, manifest: dict) -> None:
        write_json_atomic(self.root / "manifest.json", manifest)

    def add(self, record: dict) -> None:
        """Store one cell's record and refresh the tidy tables."""
        record = {"schema_version": SCHEMA_VERSION, **record}
        write_json_atomic(self.root / "cells" / f"{record['cell_id']}.json", record)
        frame = records_frame(self.records())
        write_csv_atomic(self.root / "results.csv", frame)
        write_parquet_atomic(self.root / "results.parquet", frame)

    def records(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.root / "cells").glob("*.json"))]

    @staticmethod
    def existing_ids(root: Path) -> set[str]:
        """Cell ids with a record file under ``root/cells`` (nothing is created)."""
        cells = Path(root) / "cells"
        return {p.stem for p in cells.glob("*.json")} if cells.is_dir() else set()

    def finished_ids(self) -> set[str]:
        """Cells of a (possibly killed) run that ended: a valid record, whatever its status.

        Leftovers of a write cut short (``.*.tmp``) are removed; an unreadable record (never written by
        this harness: records are renamed into place whole) is removed too, so its cell runs again.
        """
        for tmp in [*self.root.glob(".*.tmp"), *self.root.glob("*/.*.tmp")]:
            tmp.unlink(missing_ok=True)
        done = set()
        for path in sorted((self.root / "cells").glob("*.json")):
            try:
                record = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                path.unlink()
                continue
            if isinstance(record, dict) and record.get("cell_id") == path.stem and record.get("status") in STATUSES:
                done.add(path.stem)
        return done

    def refresh(self) -> None:
        """Rewrite the tidy tables from the cell records (they may lag a killed run by one cell)."""
        records = self.records()
        if not records:
            for name in ("results.csv", "results.parquet"):
                (self.root / name).unlink(missing_ok=True)
            return
        frame = records_frame(records)
        write_csv_atomic(self.root / "results.csv", frame)
        write_parquet_atomic(self.root / "results.parquet", frame)


def records_frame(records: list[dict]) -> pd.DataFrame:
    """Records -> tidy DataFrame with the standard columns first (dict columns as JSON text)."""
    rows = []
    for r in records:
        row = dict(r)
        for key in ("backend_info", "versions"):
            if isinstance(row.get(key), dict):
                row[key] = json.dumps(row[key], sort_keys=True)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if "schema_version" not in frame.columns:
        frame["schema_version"] = SCHEMA_VERSION
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    extra = [c for c in frame.columns if c not in COLUMNS]
    return frame[COLUMNS + extra]


def load_results(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a run directory (or its results.parquet / results.csv) -> (tidy table, manifest).

    Cell JSON files are the source of truth; results.csv is used when there are none.
    Raises ResultsError with a message that says what is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"results path {str(path)!r} does not exist")
    root = path if path.is_dir() else path.parent
    manifest_path = root / "manifest.json"
    manifest: dict = {}
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise ResultsError(f"{manifest_path} is not valid JSON: {err}") from err
        if not isinstance(manifest, dict):
            raise ResultsError(f"{manifest_path} must hold a JSON object")
    cells = sorted((root / "cells").glob("*.json")) if (root / "cells").is_dir() else []
    if cells and path.is_dir():
        records = []
        for p in cells:
            try:
                records.append(json.loads(p.read_text()))
            except json.JSONDecodeError as err:
                raise ResultsError(f"cell record {p} is not valid JSON: {err}") from err
        frame = records_frame(records)
        for version in frame["schema_version"].dropna().unique():
            check_schema(version, root / "cells")
    else:
        tables = [path] if path.is_file() else [root / "results.parquet", root / "results.csv"]
        table = next((t for t in tables if t.exists()), None)
        if table is None:
            raise ResultsError(f"{str(root)!r} holds no harness results (no cells/*.json, results.parquet or results.csv)")
        frame = read_table(table)
    missing = [c for c in ("model", "backend", "status") if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path} is not a harness results table: missing columns {missing}")
    bad = sorted(set(frame["status"].dropna()) - set(STATUSES))
    if bad:
        raise ResultsError(f"{path} has unknown status values {bad}; expected one of {list(STATUSES)}")
    return frame, manifest
