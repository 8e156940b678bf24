"""The SBC run directory.

Layout::

    <run>/sbc.json           the plan (models, backends, sims, sampler settings, L, alpha, seed, batch)
    <run>/manifest.json      provenance (harness.provenance.collect) with the plan as its settings
    <run>/replicates.jsonl   one JSON record per finished replicate, appended and fsynced at once
    <run>/confirm.jsonl      the same for the confirmation stage (``--confirm``: fresh data sets)
    <run>/timing.json        wall seconds, replicates and time per phase and worker per model x backend,
                             and each session's wall time and cluster start (harness.sbc.timing)
    <run>/timing-confirm.json    the same for the confirmation stage
    <run>/compile_failures.json  {model__backend: {error, replicates, stage}}: a model that did not compile,
                             recorded once with the replicates it cost (those have no replicate record,
                             so a resumed run tries them again); compile_failures-confirm.json likewise
    <run>/ranks.csv          tidy ranks: model, backend, replicate, quantity, rank, n_kept, status, divergences
    <run>/summary.csv        one row per model x backend (verdicts, coverage, replicates per second)
    <run>/quantities.csv     one row per model x backend x fit subset x quantity
    <run>/figures/<model>__<backend>.png
    <run>/logs/worker-<name>.log  what each Dask worker's fit process printed

``replicates.jsonl`` is the source of truth: a run killed at any moment loses at most the tasks in
flight, and a resumed run skips every replicate already stored. Tables and figures are rebuilt from
it at the end of each session.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.results import ResultsError, json_default, write_json_atomic

PLAN_FILE = "sbc.json"
REPLICATES_FILE = "replicates.jsonl"
TIMING_FILE = "timing.json"
STAGES = {"screen": (REPLICATES_FILE, TIMING_FILE), "confirm": ("confirm.jsonl", "timing-confirm.json")}
COMPILE_FAILURES = {"screen": "compile_failures.json", "confirm": "compile_failures-confirm.json"}


def combo_key(model: str, backend: str) -> str:
    return f"{model}__{backend}"


class SBCStore:
    """Reads and appends one SBC run directory."""

    def __init__(self, root: Path, stage: str = "screen"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stage = stage
        replicates_file, self.timing_file = STAGES[stage]
        self.replicates_path = self.root / replicates_file
        self._repair_tail()

    def _repair_tail(self) -> None:
        """Drop a half-written last line (a run killed mid-write) so appends start on a fresh line."""
        path = self.replicates_path
        if not path.exists() or path.stat().st_size == 0:
            return
        with open(path, "rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                return
            fh.truncate(data.rfind(b"\n") + 1)

    # plan
    def read_plan(self) -> dict:
        path = self.root / PLAN_FILE
        if not path.exists():
            raise ResultsError(f"{self.root} is not an SBC run directory (no {PLAN_FILE})")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ResultsError(f"{path} is not valid JSON: {err}") from err

    def write_plan(self, plan: dict) -> None:
        write_json_atomic(self.root / PLAN_FILE, plan)

    # replicates
    def records(self) -> dict[tuple[str, str, int], dict]:
        """{(model, backend, replicate): record}; the first record of a replicate wins."""
        out: dict = {}
        if not self.replicates_path.exists():
            return out
        with open(self.replicates_path) as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn line; its replicate is simply run again
                out.setdefault((rec["model"], rec["backend"], int(rec["replicate"])), rec)
        return out

    def append(self, records: list[dict]) -> None:
        """Append records as JSON lines, then flush and fsync (durable before the next task starts)."""
        if not records:
            return
        text = "".join(json.dumps(r, allow_nan=True, default=json_default) + "\n" for r in records)
        with open(self.replicates_path, "a") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    # timing
    def timing(self) -> dict:
        path = self.root / self.timing_file
        return json.loads(path.read_text()) if path.exists() else {}

    def add_timing(self, model: str, backend: str, wall_s: float, replicates: int, records: list[dict] | None = None,
                   write_s: float = 0.0) -> None:
        """Add one finished task's wall time and phases (``harness.sbc.timing``)."""
        from harness.sbc import timing as phases

        timing = self.timing()
        entry = timing.setdefault(combo_key(model, backend), {"wall_s": 0.0, "replicates": 0})
        entry["wall_s"] += float(wall_s)
        entry["replicates"] += int(replicates)
        phases.add(entry, records or [], write_s)
        write_json_atomic(self.root / self.timing_file, timing)

    def add_session(self, wall_s: float, cluster_start_s: float, workers: int | None) -> None:
        """Record one session's wall time and cluster start (``timing.json`` ``_sessions``)."""
        timing = self.timing()
        timing.setdefault("_sessions", []).append({"wall_s": float(wall_s), "cluster_start_s": float(cluster_start_s),
                                                   "workers": workers})
        write_json_atomic(self.root / self.timing_file, timing)

    # compile failures: one entry per model x backend
    def compile_failures(self) -> dict[str, dict]:
        path = self.root / COMPILE_FAILURES[self.stage]
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return {}

    def set_compile_failure(self, model: str, backend: str, failure: dict | None) -> None:
        """Record (or with ``None`` clear) the compile failure of one model x backend."""
        failures = self.compile_failures()
        key = combo_key(model, backend)
        if failure is None and key not in failures:
            return
        if failure is None:
            failures.pop(key)
        else:
            failures[key] = {**failure, "stage": self.stage}
        write_json_atomic(self.root / COMPILE_FAILURES[self.stage], failures)

