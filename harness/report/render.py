"""A run directory (+ optional equivalence table and SBC output) -> one self-contained HTML file and Markdown.

The HTML embeds every figure as a base64 PNG, so the file can be mailed or attached to a CI job as is.
The Markdown (``markdown_report``) is short enough for a CI job summary: the per-model verdicts, the
benchmark table of ``harness.run.summary.markdown_summary``, SBC verdicts and one provenance line.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from harness.diagnostics import RHAT_MAX
from harness.loaders import (
    diagnostics_problems,
    equivalence_verdicts,
    first_line,
    load_equivalence,
    load_run,
    median,
    sbc_figure,
    sbc_verdicts,
)
from harness.report import figures
from harness.run.summary import markdown_summary, summary_table
from harness.tables import fmt as _fmt
from harness.tables import markdown_table


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


# ---------------------------------------------------------------- facts shared by HTML and Markdown


def _size_label(size: str) -> str:
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


# ---------------------------------------------------------------- Markdown


def sbc_table(inputs: ReportInputs) -> pd.DataFrame | None:
    """The SBC rows of this run's models as display text (the columns the SBC output has); None when
    there is no SBC output, an empty frame when it has no rows for these models."""
    if inputs.sbc is None or inputs.sbc.empty:
        return None
    table = inputs.sbc[inputs.sbc["model"].isin(set(inputs.models()))]
    cols = [c for c in ("model", "backend", "verdict", "sims", "failed_frac", "divergent_frac", "coverage_50",
                        "coverage_80", "coverage_95", "chi2_min_p", "failed_quantities") if c in table]
    return pd.DataFrame([[_cell_text(r[c]) for c in cols] for _, r in table.iterrows()], columns=cols)


def sbc_markdown(inputs: ReportInputs) -> str:
    table = sbc_table(inputs)
    if table is None:
        return "No SBC results (nothing under results/sbc/; run `python -m harness sbc`, or pass `--sbc DIR`)."
    if table.empty:
        return "No SBC results for the models of this run."
    return markdown_table(table)


def _cell_text(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3g}"
    return str(value).replace("|", "/")


def markdown_report(inputs: ReportInputs, html_name: str | None = "report.html") -> str:
    parts = [f"# ppl-harness report: {inputs.run_dir.name}", "", provenance_line(inputs), "", "## Verdicts", ""]
    for model in inputs.models():
        rows = inputs.frame[inputs.frame["model"] == model]
        lines = model_verdicts(model, rows, inputs)
        parts.append(f"- **{model}**")
        parts.extend(f"  - {line}" for line in lines)
    parts += ["", "## Benchmark summary (medians over repeats)", "", markdown_summary(inputs.frame), "",
              "## Simulation-based calibration", "", sbc_markdown(inputs)]
    if html_name:
        parts += ["", f"Figures, errors and full provenance: `{html_name}`."]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- HTML
# The HTML is templates/report.html.j2 filled with plain data (``html_context``): tables are a head
# (list of ``Cell``) and rows (``Row``); the template escapes every text.


@dataclass
class Cell:
    text: str
    klass: str = ""
    title: str = ""
    bold: bool = False


@dataclass
class Row:
    cells: list[Cell]
    klass: str = ""


@dataclass
class Table:
    head: list[Cell]
    rows: list[Row]


def _status_class(text: str) -> str:
    text = str(text)
    if text == "pass" or text.startswith("ok"):
        return "ok"
    if text in ("fail", "error") or any(s in text for s in ("failed", "timeout", "crashed")):
        return "fail"
    return "warn"


def _model_table(model: str, groups: list[dict], inputs: ReportInputs, several_sizes: bool) -> Table:
    eq = equivalence_verdicts(inputs.equivalence)
    sbc = sbc_verdicts(inputs.sbc)
    head = (["size"] if several_sizes else []) + ["backend", "runs ok", "ESS/s", "ESS/s incl. all", "min bulk ESS",
                                                  "compile s", "warm-up s", "sampling s", "divergences", "max R-hat",
                                                  "equivalence", "SBC", "status"]
    rows = []
    for g in groups:
        eq_v = eq.get((model, g["backend"]), ("not run" if inputs.equivalence is None else "not checked", ""))
        sbc_v = sbc[(model, g["backend"])]["verdict"] if (model, g["backend"]) in sbc else "none"
        rhat = g["rhat_max"]
        cells = ([Cell(g["size"], "l")] if several_sizes else []) + [
            Cell(g["backend"], "l", bold=True),
            Cell(f'{g["ok"]}/{g["repeats"]}'),
            Cell(_fmt(g["ess_per_s"])),
            Cell(_fmt(g["ess_per_s_total"], "{:,.1f}")),
            Cell(_fmt(g["ess_bulk_min"])),
            Cell(_fmt(g["compile_s"], "{:.2f}")),
            Cell(_fmt(g["warmup_s"], "{:.3f}")),
            Cell(_fmt(g["sampling_s"], "{:.3f}")),
            Cell(_fmt(g["divergences"]), "fail" if (g["divergences"] or 0) > 0 else ""),
            Cell(_fmt(rhat, "{:.3f}"), "warn" if rhat > RHAT_MAX else ""),
            Cell(eq_v[0], _status_class(eq_v[0]), title=eq_v[1]),
            Cell(sbc_v, _status_class(sbc_v) if sbc_v != "none" else ""),
            Cell(g["status"], "l " + _status_class(g["status"])),
        ]
        klass = "rowbad" if g["ok"] < g["repeats"] else ("rowwarn" if g["problems"] else "")
        rows.append(Row(cells, klass))
    return Table([Cell(h, "l" if h in ("size", "backend", "status") else "") for h in head], rows)


SBC_HTML_COLUMNS = [("verdict", "verdict"), ("verdict_no_divergent", "verdict w/o divergent"), ("sims", "sims"),
                    ("failed_frac", "failed"), ("divergent_frac", "divergent"), ("coverage_50", "cov. 50%"),
                    ("coverage_80", "cov. 80%"), ("coverage_95", "cov. 95%"), ("chi2_min_p", "min χ² p"),
                    ("failed_quantities", "failed quantities"), ("verdict_reason", "why")]


def _sbc_context(model: str, inputs: ReportInputs, backends: list[str]) -> dict:
    """The SBC part of a model's section: a table and one figure (or note) per backend."""
    sbc = sbc_verdicts(inputs.sbc)
    found = [(b, sbc[(model, b)]) for b in backends if (model, b) in sbc]
    found += [(b, r) for (m, b), r in sbc.items() if m == model and b not in backends]
    if not found:
        where = "no SBC output found" if inputs.sbc is None else "the SBC output has no rows for this model"
        return {"missing": where}
    cols = [(c, h) for c, h in SBC_HTML_COLUMNS if any(c in r for _, r in found)]
    rows, figs = [], []
    for backend, r in found:
        cells = [Cell(backend, "l", bold=True)]
        for c, _ in cols:
            text = _cell_text(r.get(c))
            klass = _status_class(text) if c.startswith("verdict") else ""
            left = " l" if c in ("failed_quantities", "verdict_reason") else ""
            cells.append(Cell(text, klass + left))
        rows.append(Row(cells))
        path = sbc_figure(r)
        figs.append({"backend": backend, "verdict": r["verdict"], "sbc_dir": str(r["sbc_dir"]),
                     "png": base64.b64encode(path.read_bytes()).decode("ascii") if path is not None else None})
    head = [Cell("backend", "l")] + [Cell(h) for _, h in cols]
    return {"missing": None, "table": Table(head, rows), "figures": figs}


def _summary_context(frame: pd.DataFrame) -> dict:
    """The benchmark summary table (the one ``markdown_summary`` writes) for the HTML."""
    table, notes = summary_table(frame)
    left = {0, 1, len(table.columns) - 1}
    head = [Cell(str(h)) for h in table.columns]
    rows = [Row([Cell(str(v), "l" if i in left else "") for i, v in enumerate(values)])
            for values in table.itertuples(index=False)]
    return {"table": Table(head, rows), "notes": notes}


def _provenance_context(inputs: ReportInputs) -> dict:
    m = inputs.manifest
    versions: dict[str, dict] = {}
    for _, r in inputs.frame.iterrows():
        v = r.get("versions")
        if isinstance(v, str) and v.strip().startswith("{"):
            versions.setdefault(str(r["backend"]), json.loads(v))
    sbc_dirs = []
    for d in inputs.sbc_dirs:
        try:
            created = json.loads((Path(d) / "manifest.json").read_text()).get("created", "?")
        except (OSError, json.JSONDecodeError, AttributeError):
            created = "no manifest"
        sbc_dirs.append((str(d), str(created)))
    equivalence = None
    if inputs.equivalence is not None:
        equivalence = (f"{inputs.run_dir / 'equivalence.csv'}: "
                       f"{int((inputs.equivalence['status'] == 'pass').sum())}/{len(inputs.equivalence)} pairs pass.")
    return {
        "has_manifest": bool(m),
        "facts": provenance_facts(inputs),
        "packages": list((m.get("packages") or {}).items()),
        "versions": [(b, ", ".join(f"{k} {x}" for k, x in v.items())) for b, v in versions.items()],
        "thread_env": list(((m.get("settings") or {}).get("thread_env") or {}).items()),
        "equivalence": equivalence,
        "sbc_dirs": sbc_dirs,
    }


def html_context(inputs: ReportInputs) -> dict:
    """Everything templates/report.html.j2 shows, as plain data (figures as base64 PNGs)."""
    sections = []
    for model in inputs.models():
        rows = inputs.frame[inputs.frame["model"] == model]
        groups = group_rows(rows)
        errors = [{"summary": f"{g['backend']}{_size_label(g['size'])} repeat {repeat}: {status} — "
                              f"{first_line(error, 140)}",
                   "detail": error.strip() or status}
                  for g in groups for repeat, status, error in g["errors"]]
        sections.append({
            "name": model,
            "description": _description(model),
            "verdicts": model_verdicts(model, rows, inputs),
            "performance_png": figures.performance_figure(rows),
            "table": _model_table(model, groups, inputs, several_sizes=rows["size"].nunique() > 1),
            "errors": errors,
            "scaling_png": figures.scaling_figure(rows) if figures.has_size_sweep(rows) else None,
            "sbc": _sbc_context(model, inputs, figures.backend_order(rows["backend"].unique())),
        })
    return {
        "title": f"ppl-harness report: {inputs.run_dir.name}",
        "subtitle": provenance_line(inputs).replace("`", ""),
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "models": sections,
        "summary": _summary_context(inputs.frame),
        "provenance": _provenance_context(inputs),
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("harness.report", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def html_report(inputs: ReportInputs) -> str:
    return _environment().get_template("report.html.j2").render(html_context(inputs))


def _description(model: str) -> str:
    try:
        from harness.catalogue import get_model

        return get_model(model).description
    except Exception:  # a model no longer in the catalogue still gets its section
        return ""


def write_report(inputs: ReportInputs, out_dir: Path) -> tuple[Path, Path, str]:
    """Write report.html and report.md into ``out_dir``; returns their paths and the Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = markdown_report(inputs)
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    html_path.write_text(html_report(inputs), encoding="utf-8")
    md_path.write_text(md, encoding="utf-8")
    return html_path, md_path, md
