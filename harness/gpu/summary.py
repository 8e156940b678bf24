"""gpu-check's tables (CSV) and ``gpu-check.md`` from the stored records of its parts.

Everything here reads what the parts stored, so the tables can be rebuilt from a finished (or
killed) run: ``write_summary(out_dir)``.

Crossover N (per backend and metric): the smallest N at which the GPU cell beats the CPU cell of
the same backend: higher ESS/s, or shorter time to result (compile + warm-up + sampling). A CPU cell
that timed out while the GPU cell finished counts as a GPU win (marked). N without an ok cell on
both sides (CPU timeout aside) are passed over; "none" when the GPU never wins.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from harness.gpu.plan import SBC_GOAL_PER_MIN
from harness.results import RunStore, write_csv_atomic
from harness.spec import parse_size
from harness.tables import fmt, markdown_table

CROSSOVER_COLUMNS = ["model", "N", "backend", "device", "status", "chains", "warmup", "draws", "compile_s", "warmup_s",
                     "sampling_s", "time_to_result_s", "ess_bulk_min", "ess_per_s", "rhat_max", "divergences",
                     "peak_rss_mb", "peak_device_mb", "cell_timeout_s", "error"]
CHAINS_COLUMNS = ["model", "N", "backend", "device", "chains", "status", "warmup", "draws", "compile_s", "sampling_s",
                  "time_to_result_s", "ess_bulk_min", "ess_per_s", "speedup_vs_1_chain", "rhat_max", "divergences",
                  "peak_rss_mb", "peak_device_mb", "cell_timeout_s", "error"]
SBC_COLUMNS = ["model", "backend", "device", "batch", "status", "chains", "warmup", "draws", "compile_s",
               "batch_compile_s", "fit_wall_s", "reps_per_min", "sampler_reps_per_min", "goal_met", "simulate_s",
               "divergent_frac", "nonfinite", "ranks_ok", "ranks_checked", "rank_s_per_rep", "peak_rss_mb",
               "peak_device_mb", "error"]


def _float(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _first_line(text) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text).strip()
    return text.splitlines()[0][:200] if text else ""


def time_to_result(record: dict) -> float:
    """compile + warm-up + sampling seconds (NaN unless all three are known)."""
    parts = [_float(record.get(k)) for k in ("compile_s", "warmup_s", "sampling_s")]
    return sum(parts) if all(math.isfinite(p) for p in parts) else math.nan


def cell_rows(records: list[dict], columns: list[str]) -> pd.DataFrame:
    rows = []
    for r in records:
        size = parse_size(r["size"]) if r.get("size") else {}
        row = {**r, "N": size.get("N"), "time_to_result_s": time_to_result(r), "error": _first_line(r.get("error"))}
        rows.append({c: row.get(c) for c in columns if c != "speedup_vs_1_chain"})
    frame = pd.DataFrame(rows, columns=[c for c in columns if c != "speedup_vs_1_chain"])
    return frame


# ---------------------------------------------------------------- crossover


def crossover_n(rows: list[dict], metric: str = "ess_per_s", higher_is_better: bool = True) -> tuple[int | None, str]:
    """(smallest N where the GPU beats the CPU on ``metric``, note) over one backend's rows.

    rows: dicts with N, device ("cpu"/"gpu"), status and the metric. Returns (None, why) when the GPU
    never wins.
    """
    by_n: dict[int, dict] = {}
    for r in rows:
        if r.get("N") is None or (isinstance(r.get("N"), float) and math.isnan(r["N"])):
            continue
        by_n.setdefault(int(r["N"]), {})[r.get("device")] = r
    compared = 0
    for n in sorted(by_n):
        gpu, cpu = by_n[n].get("gpu"), by_n[n].get("cpu")
        if gpu is None or gpu.get("status") != "ok" or not math.isfinite(_float(gpu.get(metric))):
            continue
        if cpu is not None and cpu.get("status") == "timeout":
            return n, "CPU cell timed out"
        if cpu is None or cpu.get("status") != "ok" or not math.isfinite(_float(cpu.get(metric))):
            continue
        compared += 1
        g, c = _float(gpu[metric]), _float(cpu[metric])
        if (g > c) if higher_is_better else (g < c):
            return n, ""
    if compared == 0:
        return None, "no N with an ok cell on both devices"
    return None, f"CPU ahead at every N compared ({compared})"


def crossover_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for backend, group in frame.groupby("backend", sort=False):
        records = group.to_dict("records")
        n_ess, note_ess = crossover_n(records, "ess_per_s", True)
        n_ttr, note_ttr = crossover_n(records, "time_to_result_s", False)
        rows.append({"backend": backend, "crossover_N_ess_per_s": n_ess, "note_ess_per_s": note_ess,
                     "crossover_N_time_to_result": n_ttr, "note_time_to_result": note_ttr})
    return pd.DataFrame(rows, columns=["backend", "crossover_N_ess_per_s", "note_ess_per_s",
                                       "crossover_N_time_to_result", "note_time_to_result"])


# ---------------------------------------------------------------- chains


def chains_table(records: list[dict]) -> pd.DataFrame:
    frame = cell_rows(records, CHAINS_COLUMNS)
    if frame.empty:
        return pd.DataFrame(columns=CHAINS_COLUMNS)
    frame = frame.sort_values(["backend", "device", "chains"], kind="stable").reset_index(drop=True)
    speedup = []
    for _, row in frame.iterrows():
        one = frame[(frame.backend == row.backend) & (frame.device == row.device) & (frame.chains == 1)
                    & (frame.status == "ok")]
        base = _float(one["ess_per_s"].iloc[0]) if len(one) else math.nan
        speedup.append(_float(row["ess_per_s"]) / base if row["status"] == "ok" and base > 0 else math.nan)
    frame["speedup_vs_1_chain"] = speedup
    return frame[CHAINS_COLUMNS]


# ---------------------------------------------------------------- SBC throughput


def sbc_table(rows: list[dict]) -> pd.DataFrame:
    out = []
    for r in rows:
        rate = _float(r.get("reps_per_min"))
        row = {**r, "error": _first_line(r.get("error")),
               "goal_met": (rate >= SBC_GOAL_PER_MIN) if r.get("status") == "ok" and math.isfinite(rate) else None}
        out.append({c: row.get(c) for c in SBC_COLUMNS})
    frame = pd.DataFrame(out, columns=SBC_COLUMNS)
    if not frame.empty:
        frame = frame.sort_values(["backend", "device", "batch"], kind="stable").reset_index(drop=True)
    return frame


def sbc_verdicts(frame: pd.DataFrame) -> list[str]:
    """One line per backend x device: best replicates/min and whether the goal is met."""
    lines = []
    for (backend, device), group in frame.groupby(["backend", "device"], sort=False):
        ok = group[group.status == "ok"]
        if ok.empty:
            statuses = ", ".join(sorted(set(group.status.astype(str))))
            lines.append(f"{backend} on {device}: no measurement ({statuses}: {_first_line(group.error.iloc[0])})")
            continue
        best = ok.iloc[int(ok.reps_per_min.astype(float).to_numpy().argmax())]
        met = float(best.reps_per_min) >= SBC_GOAL_PER_MIN
        lines.append(f"{backend} on {device}: best {float(best.reps_per_min):,.0f} replicates/min (batch "
                     f"{int(best.batch)}, compile excluded): goal of {SBC_GOAL_PER_MIN:,}/min "
                     f"**{'met' if met else 'not met'}**")
    return lines


# ---------------------------------------------------------------- Markdown

DECLARATION_TEXT = {
    "vectorized_chains": "`Capabilities.vectorized_chains` (so it is not in the chains part)",
    "sample_batch": "`sample_batch` (so it is not in the SBC throughput part)",
    "peak_device_memory_mb": "`peak_device_memory_mb()` (so its peak device memory is blank)",
}


def md_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]]) -> str:
    """columns: (column, header, format)."""
    if frame.empty:
        return "(no rows)"
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, _, spec in columns:
            value = row.get(col)
            if isinstance(value, float) and math.isnan(value):
                value = None
            cells.append(fmt(value, spec))
        rows.append(cells)
    return markdown_table(rows, [h for _, h, _ in columns])


def _status_cell(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["status_text"] = [s if s == "ok" else f"{s}: {e}"[:90] if e else s
                            for s, e in zip(frame["status"].astype(str), frame["error"].fillna("").astype(str))]
    return frame


def _crossover_tables(tables: dict) -> tuple[str, str] | None:
    cross = tables.get("crossover")
    if cross is None or cross.empty:
        return None
    table = md_table(_status_cell(cross), [
        ("N", "N", "{:,.0f}"), ("backend", "backend", "{}"), ("device", "device", "{}"),
        ("ess_per_s", "ESS/s", "{:,.0f}"), ("time_to_result_s", "time to result s", "{:.1f}"),
        ("compile_s", "compile s", "{:.1f}"), ("warmup_s", "warm-up s", "{:.2f}"),
        ("sampling_s", "sampling s", "{:.2f}"), ("ess_bulk_min", "min bulk ESS", "{:.0f}"),
        ("rhat_max", "max R-hat", "{:.3f}"), ("peak_rss_mb", "peak host MiB", "{:,.0f}"),
        ("peak_device_mb", "peak device MiB", "{:,.0f}"), ("status_text", "status", "{}")])
    summary = tables["crossover_summary"].copy()
    for col, text in (("crossover_N_ess_per_s", "ess_text"), ("crossover_N_time_to_result", "ttr_text")):
        summary[text] = [fmt(n, "{:,.0f}") if n is not None and not (isinstance(n, float) and math.isnan(n))
                         else "none" for n in summary[col]]
    crossover_n = md_table(summary, [("backend", "backend", "{}"), ("ess_text", "on ESS/s", "{}"),
                                     ("note_ess_per_s", "note", "{}"), ("ttr_text", "on time to result", "{}"),
                                     ("note_time_to_result", "note", "{}")])
    return table, crossover_n


def _chains_table(tables: dict) -> str | None:
    chains = tables.get("chains")
    if chains is None or chains.empty:
        return None
    return md_table(_status_cell(chains), [
        ("backend", "backend", "{}"), ("device", "device", "{}"), ("chains", "chains", "{:.0f}"),
        ("ess_per_s", "ESS/s total", "{:,.0f}"), ("speedup_vs_1_chain", "x 1 chain", "{:.1f}"),
        ("ess_bulk_min", "min bulk ESS", "{:,.0f}"), ("sampling_s", "sampling s", "{:.2f}"),
        ("time_to_result_s", "time to result s", "{:.1f}"), ("peak_rss_mb", "peak host MiB", "{:,.0f}"),
        ("peak_device_mb", "peak device MiB", "{:,.0f}"), ("status_text", "status", "{}")])


def _sbc_table(tables: dict) -> tuple[str, list[str]] | None:
    sbc = tables.get("sbc")
    if sbc is None or sbc.empty:
        return None
    frame = _status_cell(sbc)
    frame["ranks"] = [f"{int(o)}/{int(c)}" if pd.notna(o) and pd.notna(c) else "-"
                      for o, c in zip(frame["ranks_ok"], frame["ranks_checked"])]
    table = md_table(frame, [
        ("backend", "backend", "{}"), ("device", "device", "{}"), ("batch", "batch", "{:,.0f}"),
        ("reps_per_min", "replicates/min", "{:,.0f}"), ("sampler_reps_per_min", "sampler-only /min", "{:,.0f}"),
        ("fit_wall_s", "fit s", "{:.2f}"), ("compile_s", "compile s", "{:.1f}"),
        ("batch_compile_s", "batch compile s", "{:.1f}"), ("divergent_frac", "divergent", "{:.2f}"),
        ("ranks", "rank check ok", "{}"), ("goal_met", "goal met", "{}"),
        ("peak_device_mb", "peak device MiB", "{:,.0f}"), ("status_text", "status", "{}")])
    return table, sbc_verdicts(sbc)


def render_markdown(out_dir: Path, manifest: dict, tables: dict) -> str:
    """``gpu-check.md`` (``templates/gpu_check.md.j2``) from the manifest and the parts' tables."""
    from harness.templates import render

    settings = manifest.get("settings", {})
    plan = settings.get("plan", {})
    tests = tables.get("tests")
    tests_tail = "\n".join(tests["tail"].strip().splitlines()[-12:]) if tests and tests.get("tail") else ""
    return render(
        "gpu_check.md.j2", manifest=manifest, plan=plan, machine=manifest.get("machine", {}), git=manifest.get("git", {}),
        packages=", ".join(f"{k} {v}" for k, v in manifest.get("packages", {}).items()),
        wall=fmt(manifest.get("wall_s"), "{:.0f}"), budget=fmt(plan.get("budget_s"), "{:.0f}"),
        cell_timeout=fmt(plan.get("cell_timeout_s"), "{:.0f}"), cpu_lanes=settings.get("cpu_lanes"),
        commands=[" ".join(manifest.get("command") or []), *settings.get("equivalent_commands", [])],
        selection=[(part, sel.get("capability"), ", ".join(sel.get("run", [])) or "none",
                    [(name, _first_line(why)) for name, why in sel.get("not_run", {}).items()])
                   for part, sel in settings.get("selection", {}).items()],
        missing=[(name, "; ".join(DECLARATION_TEXT.get(c, c) for c in lacks))
                 for name, lacks in settings.get("missing_declarations", {}).items()],
        tests=tests, tests_wall=(f" in {tests['wall_s']:.0f} s" if tests and tests.get("wall_s") is not None else ""),
        tests_error=(f"; {_first_line(tests.get('error'))}" if tests and tests.get("error") else ""),
        tests_tail=tests_tail, crossover=_crossover_tables(tables), chains=_chains_table(tables),
        sbc=_sbc_table(tables), sbc_goal=f"{SBC_GOAL_PER_MIN:,}", out_dir=out_dir)


def write_summary(out_dir: Path) -> dict:
    """Rebuild every table and gpu-check.md from the parts' stored records; returns the tables."""
    from harness.gpu.parts import read_jsonl

    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "manifest.json").read_text()) if (out_dir / "manifest.json").exists() else {}
    tables: dict = {}
    if (out_dir / "crossover" / "cells").is_dir():
        cross = cell_rows(RunStore(out_dir / "crossover").records(), CROSSOVER_COLUMNS)
        cross = cross.sort_values(["N", "backend", "device"], ascending=[True, True, False], kind="stable")
        tables["crossover"] = cross.reset_index(drop=True)
        tables["crossover_summary"] = crossover_summary(tables["crossover"])
        write_csv_atomic(out_dir / "crossover.csv", tables["crossover"])
        write_csv_atomic(out_dir / "crossover_n.csv", tables["crossover_summary"])
    if (out_dir / "chains" / "cells").is_dir():
        tables["chains"] = chains_table(RunStore(out_dir / "chains").records())
        write_csv_atomic(out_dir / "chains.csv", tables["chains"])
    if (out_dir / "sbc-throughput").is_dir():
        rows = [r for p in sorted((out_dir / "sbc-throughput").glob("*.jsonl")) for r in read_jsonl(p)]
        tables["sbc"] = sbc_table(rows)
        write_csv_atomic(out_dir / "sbc_throughput.csv", tables["sbc"])
    if (out_dir / "gpu-tests" / "summary.json").exists():
        tables["tests"] = json.loads((out_dir / "gpu-tests" / "summary.json").read_text())
    (out_dir / "gpu-check.md").write_text(render_markdown(out_dir, manifest, tables))
    return tables
