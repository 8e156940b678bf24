"""The facts of a report, shared by its HTML and its Markdown: the inputs (a run directory, its
equivalence table, SBC output) and what is said about them (per-model verdicts, provenance, the
overview cells of ``harness.report.overview`` and the per-class rows)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from harness.loaders import (
    diagnostics_problems,
    equivalence_verdicts,
    first_line,
    load_equivalence,
    load_run,
    median,
    sbc_verdicts,
)
from harness.report import figures
from harness.report.overview import overview_cells
from harness.tables import fmt as _fmt


@dataclass
class ReportInputs:
    run_dir: Path
    frame: pd.DataFrame
    manifest: dict
    equivalence: pd.DataFrame | None = None
    sbc: pd.DataFrame | None = None
    sbc_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, run_dir: str | Path, sbc: pd.DataFrame | None = None, sbc_dirs: list[Path] | None = None):
        frame, manifest = load_run(run_dir)
        return cls(Path(run_dir), frame, manifest, load_equivalence(run_dir), sbc, list(sbc_dirs or []))

    def models(self) -> list[str]:
        return list(dict.fromkeys(self.frame["model"]))

    @cached_property
    def cells(self) -> pd.DataFrame:
        """The overview cells (``harness.report.overview.overview_cells``), computed once."""
        return overview_cells(self.frame)


# ---------------------------------------------------------------- facts shared by HTML and Markdown


def size_label(size: str) -> str:
    return f" ({size})" if size else ""


def group_rows(rows: pd.DataFrame) -> list[dict]:
    """One dict per size x backend of a model's rows: status, medians, diagnostics, errors."""
    out = []
    for size, backend in figures.categories(rows):
        group = rows[(rows["size"] == size) & (rows["backend"] == backend)]
        ok = group[group["status"] == "ok"]
        counts = group["status"].value_counts()
        status = "ok" if list(counts.index) == ["ok"] else "; ".join(f"{s} {n}/{len(group)}" for s, n in counts.items())
        out.append({
            "size": size, "backend": backend, "repeats": len(group), "ok": len(ok), "status": status,
            "ess_per_s": median(ok["ess_per_s"]), "ess_per_s_total": median(ok["ess_per_s_total"]),
            "ess_bulk_min": median(ok["ess_bulk_min"]),
            "compile_s": median(ok["compile_s"]), "warmup_s": median(ok["warmup_s"]),
            "sampling_s": median(ok["sampling_s"]), "total_s": median(ok["total_s"]),
            "divergences": pd.to_numeric(ok["divergences"], errors="coerce").sum() if len(ok) else math.nan,
            "rhat_max": pd.to_numeric(ok["rhat_max"], errors="coerce").max() if len(ok) else math.nan,
            "problems": diagnostics_problems(ok) if len(ok) else [],
            "errors": [(int(r["repeat"]) if pd.notna(r["repeat"]) else -1, r["status"], r["error"])
                       for _, r in group[group["status"] != "ok"].iterrows()],
        })
    return out


def model_verdicts(model: str, rows: pd.DataFrame, inputs: ReportInputs) -> list[str]:
    """Plain-text verdict lines of one model: ranking per size, failures, diagnostics, equivalence, SBC."""
    lines = []
    groups = group_rows(rows)
    for size in dict.fromkeys(g["size"] for g in groups):
        mine = [g for g in groups if g["size"] == size]
        ranked = sorted((g for g in mine if not math.isnan(g["ess_per_s"])), key=lambda g: -g["ess_per_s"])
        head = f"{size}: " if size else ""
        if ranked:
            best = ranked[0]
            text = "ESS/s (median) " + " > ".join(f"{g['backend']} {_fmt(g['ess_per_s'])}" for g in ranked)
            if len(ranked) > 1 and ranked[1]["ess_per_s"] > 0:
                ratio = best["ess_per_s"] / ranked[1]["ess_per_s"]
                times = f"{ratio:.2f}" if ratio < 10 else f"{ratio:.0f}"
                text += f"; {best['backend']} is {times}x {ranked[1]['backend']}"
            lines.append(head + text)
        else:
            lines.append(head + "no backend finished a run")
        for g in mine:
            if g["errors"]:
                repeat, status, error = g["errors"][0]
                lines.append(f"{head}{g['backend']} {g['status']}: {first_line(error, 140) or status}")
            if g["problems"]:
                lines.append(f"{head}{g['backend']} diagnostics: {'; '.join(g['problems'])}")
    backends = figures.backend_order(rows["backend"].unique())
    eq = equivalence_verdicts(inputs.equivalence)
    if inputs.equivalence is None:
        lines.append("equivalence: not run (no equivalence.csv in the run directory)")
    else:
        failed = [f"{b} ({eq[(model, b)][1]})" for b in backends if eq.get((model, b), ("pass",))[0] != "pass"]
        missing = [b for b in backends if (model, b) not in eq]
        text = "equivalence: " + ("fail " + "; ".join(failed) if failed else "every backend agrees with the reference")
        if missing:
            text += f" (not checked: {', '.join(missing)})"
        lines.append(text)
    sbc = sbc_verdicts(inputs.sbc)
    found = [(b, sbc[(model, b)]) for b in backends if (model, b) in sbc]
    if not found:
        lines.append("SBC: no SBC results")
    else:
        parts = [f"{b} {r['verdict']}" for b, r in found]
        missing = [b for b in backends if (model, b) not in sbc]
        lines.append("SBC: " + ", ".join(parts) + (f" (no SBC result: {', '.join(missing)})" if missing else ""))
    return lines


def provenance_facts(inputs: ReportInputs) -> list[tuple[str, str]]:
    m = inputs.manifest
    machine = m.get("machine") or {}
    git = m.get("git") or {}
    settings = m.get("settings") or {}
    commit = git.get("commit")
    git_text = ("unknown (not a git checkout)" if not commit
                else commit[:12] + (" (uncommitted changes)" if git.get("dirty") else ""))
    facts = [
        ("run directory", str(inputs.run_dir)),
        ("created", str(m.get("created", "unknown"))),
        ("command", " ".join(m.get("command") or []) or "unknown"),
        ("machine", f"{machine.get('cpu', '?')}, {machine.get('cpu_count', '?')} logical cores, "
                    f"host {machine.get('hostname', '?')}"),
        ("GPU", str(machine.get("gpu") or "none")),
        ("platform", str(machine.get("platform", "?"))),
        ("python", str(machine.get("python", "?"))),
        ("git commit", git_text),
    ]
    if settings:
        facts.append(("sampler", ", ".join(f"{k} {settings[k]}" for k in (
            "chains", "warmup", "draws", "target_accept", "max_treedepth", "device", "cores") if k in settings)))
        facts.append(("run", ", ".join(f"{k} {settings[k]}" for k in ("repeats", "root_seed", "timeout_s")
                                       if k in settings)))
    return facts


def provenance_line(inputs: ReportInputs) -> str:
    m = inputs.manifest
    machine = m.get("machine") or {}
    s = m.get("settings") or {}
    git = m.get("git") or {}
    commit = (git.get("commit") or "")[:10] or "no git"
    if git.get("dirty"):
        commit += " (dirty)"
    sampler = (f"{s.get('chains', '?')} chains x {s.get('warmup', '?')} warm-up / {s.get('draws', '?')} draws, "
               f"{s.get('repeats', '?')} repeat(s), {s.get('device', '?')}, {s.get('cores', '?')} core(s) per cell"
               if s else "settings unknown")
    return (f"Run `{inputs.run_dir}` created {m.get('created', '?')} on {machine.get('cpu', '?')} "
            f"({machine.get('cpu_count', '?')} cores, GPU: {machine.get('gpu') or 'none'}), "
            f"python {machine.get('python', '?')}, "
            f"commit {commit}; {sampler}.")



def overview_subtitle(inputs: ReportInputs) -> str:
    """One line under the overview's title: the run, its sampler settings and machine."""
    m = inputs.manifest
    s, machine = m.get("settings") or {}, m.get("machine") or {}
    created = str(m.get("created", ""))[:10]
    head = f"run {inputs.run_dir.name}" + (f" ({created})" if created else "")
    sampler = (f"{s.get('chains', '?')} chains x {s.get('warmup', '?')} warm-up / {s.get('draws', '?')} draws, "
               f"{s.get('repeats', '?')} repeat(s), {s.get('cores', '?')} core(s) per cell" if s else "")
    where = (f"{machine.get('cpu', '?')} ({machine.get('cpu_count', '?')} cores"
             f"{', GPU ' + str(machine['gpu']) if machine.get('gpu') else ''})" if machine else "")
    return "; ".join(p for p in (head, sampler, where) if p) + \
        ".\nESS/s = min bulk ESS / sampling seconds, median over the repeats that finished."


def model_order(inputs: ReportInputs) -> list[tuple[str, list[str]]]:
    """[(class, [model, ...])] in the overview's row order (classes alphabetical, models within)."""
    out: dict[str, list[str]] = {}
    for klass, model in inputs.cells[["klass", "model"]].drop_duplicates().itertuples(index=False):
        out.setdefault(str(klass), [])
        if model not in out[klass]:
            out[klass].append(str(model))
    return list(out.items())


def class_rows(cells: pd.DataFrame) -> list[dict]:
    """Per overview row of ``cells`` (one class's cells): model label, the best backend and its ESS/s,
    the runner-up and its relative ESS/s, and the backends that failed, were inaccurate or are not
    implemented."""
    out = []
    for label, mine in cells.groupby("row", sort=False):
        ranked = mine[mine["relative"].notna() & ~mine["inaccurate"]].sort_values("relative", ascending=False)
        best = ranked.iloc[0] if len(ranked) else None
        second = ranked.iloc[1] if len(ranked) > 1 else None
        out.append({
            "row": label, "model": mine["model"].iloc[0],
            "best": best["backend"] if best is not None else "none finished",
            "best_ess": _fmt(best["ess_per_s"]) if best is not None else "-",
            "second": f"{second['backend']} {second['relative']:.2g}" if second is not None else "-",
            "failed": ", ".join(mine.loc[(mine["state"] == "failed") | mine["partial"], "backend"]),
            "inaccurate": ", ".join(mine.loc[mine["inaccurate"], "backend"]),
            "not_implemented": ", ".join(mine.loc[mine["state"] == "not implemented", "backend"]),
        })
    return out


def cell_text(value: object) -> str:
    """A table cell's text: floats to 3 significant digits ("-" for NaN), "|" made "/"."""
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3g}"
    return str(value).replace("|", "/")


def description(model: str) -> str:
    """The catalogue's one-line description of ``model`` ("" for a model no longer in the catalogue)."""
    try:
        from harness.catalogue import get_model

        return get_model(model).description
    except Exception:  # a model no longer in the catalogue still gets its section
        return ""
