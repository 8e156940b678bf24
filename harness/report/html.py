"""The HTML report: ``templates/report.html.j2`` filled with plain data (``html_context``).

Order: the overview figure and its per-backend table, then one section per model class (its models'
best backends), holding one section per model (verdicts, performance, accuracy z-scores, SBC), then
the benchmark table and the provenance. Every figure is a base64 PNG in a <figure> with a
<figcaption> saying how to read it, so the file is self-contained. Tables are a head (list of
``Cell``) and rows (``Row``); the template escapes every text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from harness.diagnostics import RHAT_MAX
from harness.loaders import equivalence_verdicts, first_line, sbc_verdicts
from harness.report import figures
from harness.report.facts import (
    ReportInputs,
    cell_text,
    class_rows,
    description,
    group_rows,
    model_order,
    model_verdicts,
    overview_subtitle,
    provenance_facts,
    provenance_line,
    size_label,
)
from harness.report.overview import backend_table_text, write_overview
from harness.report.sbc_view import sbc_png
from harness.report.zscores import model_accuracy, z_critical, zscore_figure
from harness.run.summary import summary_table
from harness.tables import fmt as _fmt


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
            text = cell_text(r.get(c))
            klass = _status_class(text) if c.startswith("verdict") else ""
            left = " l" if c in ("failed_quantities", "verdict_reason") else ""
            cells.append(Cell(text, klass + left))
        rows.append(Row(cells))
        png, source = sbc_png(r)
        figs.append({"backend": backend, "verdict": r["verdict"], "sbc_dir": str(r["sbc_dir"]), "png": png,
                     "source": source})
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


def _phases_context(frame: pd.DataFrame) -> dict:
    """Where the cells' time went (``harness.run.summary.phase_table``), as a table and one line."""
    from harness.run.summary import PHASE_NAMES, phase_line, phase_table

    table = phase_table(frame)
    if table.empty or table[list(PHASE_NAMES)].isna().all().all():
        return {"table": None, "line": ""}
    head = [Cell("backend", "l"), Cell("cells")] + [Cell(f"{n} s") for n in PHASE_NAMES.values()] + [
        Cell("sampling s per gradient (µs)")]
    rows = [Row([Cell(str(r["backend"]), "l"), Cell(str(r["cells"]))]
                + [Cell(_fmt(r[c], "{:.1f}")) for c in PHASE_NAMES] + [Cell(_fmt(r["sampling_per_grad_us"], "{:.2f}"))])
            for _, r in table.iterrows()]
    return {"table": Table(head, rows), "line": phase_line(frame)}


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


def _frame_table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> Table:
    """A display-text DataFrame as a ``Table`` (columns named in ``left`` left-aligned)."""
    head = [Cell(str(c), "l" if c in left else "") for c in frame.columns]
    rows = [Row([Cell(str(v), "l" if c in left else "") for c, v in zip(frame.columns, values)])
            for values in frame.itertuples(index=False)]
    return Table(head, rows)


def _overview_context(inputs: ReportInputs, png: str | None) -> dict:
    """The overview figure (base64 PNG; drawn here when ``png`` is None) and its per-backend table."""
    if png is None:
        png = base64.b64encode(write_overview(inputs.cells, [], subtitle=overview_subtitle(inputs))).decode("ascii")
    return {"png": png, "table": _frame_table(backend_table_text(inputs.cells), left=("backend",))}


def _class_table(cells: pd.DataFrame) -> Table:
    """One row per model (x size) of a class: best backend, runner-up, failed, inaccurate, not implemented."""
    head = [Cell(h, "l") for h in ("model", "fastest backend", "its ESS/s", "next (ESS/s ÷ best)", "failed",
                                   "accuracy FAIL", "not implemented")]
    rows = []
    for r in class_rows(cells):
        rows.append(Row([Cell(r["row"], "l", bold=True), Cell(r["best"], "l"), Cell(r["best_ess"]),
                         Cell(r["second"], "l"), Cell(r["failed"] or "-", "l fail" if r["failed"] else "l"),
                         Cell(r["inaccurate"] or "-", "l fail" if r["inaccurate"] else "l"),
                         Cell(r["not_implemented"] or "-", "l")]))
    return Table(head, rows)


def _accuracy_context(model: str, rows: pd.DataFrame) -> dict:
    """The accuracy part of a model's section: the z-score figure (or why there is none) and verdicts."""
    acc = model_accuracy(model, rows)
    head = [Cell("backend", "l"), Cell("verdict"), Cell("worst scalar (statistic)", "l"), Cell("z"),
            Cell("difference (ref. sd)")]
    table = Table(head, [Row([Cell(r["backend"], "l", bold=True), Cell(r["verdict"], _accuracy_class(r["verdict"])),
                              Cell(str(r["worst"]) or "-", "l"), Cell(_fmt(r["z"], "{:+.2f}")),
                              Cell(_fmt(r["diff"], "{:.3f}"))]) for _, r in acc.verdicts.iterrows()])
    has_z = not acc.z.empty
    return {"png": zscore_figure(acc) if has_z else None, "note": acc.note, "size": acc.size,
            "crit": f"{z_critical(acc.tests):.2f}" if has_z else "", "tests": acc.tests,
            "missing": ", ".join(acc.missing), "table": table if len(acc.verdicts) else None}


def _accuracy_class(verdict: str) -> str:
    return {"PASS": "ok", "FAIL": "fail", "REVIEW": "warn"}.get(str(verdict), "")


def _model_section(model: str, inputs: ReportInputs) -> dict:
    """Everything one model's section shows (figures as base64 PNGs)."""
    rows = inputs.frame[inputs.frame["model"] == model]
    groups = group_rows(rows)
    errors = [{"summary": f"{g['backend']}{size_label(g['size'])} repeat {repeat}: {status} — "
                          f"{first_line(error, 140)}", "detail": error.strip() or status}
              for g in groups for repeat, status, error in g["errors"]]
    return {
        "name": model, "description": description(model), "verdicts": model_verdicts(model, rows, inputs),
        "performance_png": figures.performance_figure(rows),
        "table": _model_table(model, groups, inputs, several_sizes=rows["size"].nunique() > 1),
        "errors": errors,
        "scaling_png": figures.scaling_figure(rows) if figures.has_size_sweep(rows) else None,
        "accuracy": _accuracy_context(model, rows),
        "sbc": _sbc_context(model, inputs, figures.backend_order(rows["backend"].unique())),
    }


def _class_sections(inputs: ReportInputs) -> list[dict]:
    """One dict per model class: its name, anchor, table of models and the models' sections."""
    out = []
    for klass, models in model_order(inputs):
        cells = inputs.cells[inputs.cells["klass"] == klass]
        out.append({"name": klass, "id": "c-" + klass.replace(" ", "-"), "table": _class_table(cells),
                    "models": [_model_section(m, inputs) for m in models]})
    return out


def html_context(inputs: ReportInputs, overview_png: str | None = None) -> dict:
    """Everything templates/report.html.j2 shows, as plain data (figures as base64 PNGs);
    ``overview_png``: the overview figure already drawn (base64), else it is drawn here."""
    return {
        "title": f"ppl-harness report: {inputs.run_dir.name}",
        "subtitle": provenance_line(inputs).replace("`", ""),
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "overview": _overview_context(inputs, overview_png),
        "classes": _class_sections(inputs),
        "summary": _summary_context(inputs.frame),
        "phases": _phases_context(inputs.frame),
        "provenance": _provenance_context(inputs),
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("harness.report", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def html_report(inputs: ReportInputs, overview_png: str | None = None) -> str:
    """The whole HTML document (``overview_png``: see ``html_context``)."""
    return _environment().get_template("report.html.j2").render(html_context(inputs, overview_png))
