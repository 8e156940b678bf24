"""A run directory (+ optional equivalence table and SBC output) -> one self-contained HTML file and Markdown.

The HTML embeds every figure as a base64 PNG, so the file can be mailed or attached to a CI job as is.
The Markdown (``markdown_report``) is short enough for a CI job summary: the per-model verdicts, the
benchmark table of ``harness.tables.markdown_summary``, SBC verdicts and one provenance line.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

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
from harness.tables import fmt as _fmt
from harness.tables import markdown_summary


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


def sbc_markdown(inputs: ReportInputs) -> str:
    if inputs.sbc is None or inputs.sbc.empty:
        return "No SBC results (nothing under results/sbc/; run `python -m harness sbc`, or pass `--sbc DIR`)."
    models = set(inputs.models())
    table = inputs.sbc[inputs.sbc["model"].isin(models)]
    if table.empty:
        return "No SBC results for the models of this run."
    cols = [c for c in ("model", "backend", "verdict", "sims", "failed_frac", "divergent_frac", "coverage_50",
                        "coverage_80", "coverage_95", "chi2_min_p", "failed_quantities") if c in table]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in table.iterrows():
        lines.append("| " + " | ".join(_cell_text(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def _cell_text(value) -> str:
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

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#222;background:#f6f7f9;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 32px 64px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 4px} h2{font-size:21px;margin:40px 0 6px;padding-top:12px;border-top:2px solid #e3e6ea}
h3{font-size:16px;margin:22px 0 6px;color:#333}
.sub{color:#555;margin:0 0 16px} .desc{color:#555;margin:0 0 10px;font-style:italic}
nav{background:#f0f3f7;padding:8px 14px;border-radius:6px;margin:14px 0;font-size:14px}
nav a{margin-right:14px;color:#1f5fa8;text-decoration:none}
table{border-collapse:collapse;font-size:13px;margin:8px 0 12px;width:auto}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f0f3f7;text-align:center} td.l,th.l{text-align:left}
tr.rowbad td{background:#fff1f0} tr.rowwarn td{background:#fffbe6}
.ok{color:#1a7f37;font-weight:600} .fail{color:#b42318;font-weight:600} .warn{color:#9a6700;font-weight:600}
ul.verdicts{margin:6px 0 10px 0;padding-left:20px} ul.verdicts li{margin:2px 0}
img.fig{max-width:100%;border:1px solid #e3e6ea;border-radius:4px;margin:6px 0}
.sbcfigs{display:flex;flex-wrap:wrap;gap:12px} .sbcfigs figure{margin:0;flex:1 1 340px;max-width:560px}
figcaption{font-size:12px;color:#555}
details{margin:4px 0;font-size:13px} summary{cursor:pointer}
pre{background:#f6f8fa;border:1px solid #e3e6ea;padding:8px;overflow-x:auto;font-size:12px;white-space:pre-wrap}
dl.prov{display:grid;grid-template-columns:170px 1fr;gap:3px 12px;font-size:13px;margin:8px 0}
dl.prov dt{font-weight:600;color:#444} dl.prov dd{margin:0;word-break:break-all}
.chips span{display:inline-block;background:#eef1f5;border-radius:10px;padding:1px 8px;margin:2px;font-size:12px}
.note{font-size:12px;color:#666}
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text))


def _status_class(text: str) -> str:
    text = str(text)
    if text == "pass" or text.startswith("ok"):
        return "ok"
    if text in ("fail", "error") or any(s in text for s in ("failed", "timeout", "crashed")):
        return "fail"
    return "warn"


def _img(b64: str, alt: str) -> str:
    return f'<img class="fig" alt="{_e(alt)}" src="data:image/png;base64,{b64}">'


def _model_table(model: str, rows: pd.DataFrame, inputs: ReportInputs) -> str:
    eq = equivalence_verdicts(inputs.equivalence)
    sbc = sbc_verdicts(inputs.sbc)
    several = rows["size"].nunique() > 1
    head = (["size"] if several else []) + ["backend", "runs ok", "ESS/s", "ESS/s incl. all", "min bulk ESS",
                                            "compile s", "warm-up s", "sampling s", "divergences", "max R-hat",
                                            "equivalence", "SBC", "status"]
    out = ["<table><tr>" + "".join(f'<th{" class=l" if h in ("size", "backend", "status") else ""}>{_e(h)}</th>'
                                  for h in head) + "</tr>"]
    for g in group_rows(rows):
        eq_v = eq.get((model, g["backend"]), ("not run" if inputs.equivalence is None else "not checked", ""))
        sbc_v = sbc[(model, g["backend"])]["verdict"] if (model, g["backend"]) in sbc else "none"
        klass = "rowbad" if g["ok"] < g["repeats"] else ("rowwarn" if g["problems"] else "")
        rhat = g["rhat_max"]
        cells = ([f'<td class=l>{_e(g["size"])}</td>'] if several else []) + [
            f'<td class=l><b>{_e(g["backend"])}</b></td>',
            f'<td>{g["ok"]}/{g["repeats"]}</td>',
            f'<td>{_fmt(g["ess_per_s"])}</td>',
            f'<td>{_fmt(g["ess_per_s_total"], "{:,.1f}")}</td>',
            f'<td>{_fmt(g["ess_bulk_min"])}</td>',
            f'<td>{_fmt(g["compile_s"], "{:.2f}")}</td>',
            f'<td>{_fmt(g["warmup_s"], "{:.3f}")}</td>',
            f'<td>{_fmt(g["sampling_s"], "{:.3f}")}</td>',
            f'<td class="{"fail" if (g["divergences"] or 0) > 0 else ""}">{_fmt(g["divergences"])}</td>',
            f'<td class="{"warn" if rhat > RHAT_MAX else ""}">{_fmt(rhat, "{:.3f}")}</td>',
            f'<td class="{_status_class(eq_v[0])}" title="{_e(eq_v[1])}">{_e(eq_v[0])}</td>',
            f'<td class="{_status_class(sbc_v) if sbc_v != "none" else ""}">{_e(sbc_v)}</td>',
            f'<td class="l {_status_class(g["status"])}">{_e(g["status"])}</td>',
        ]
        out.append(f'<tr class="{klass}">' + "".join(cells) + "</tr>")
    out.append("</table>")
    out.append('<p class="note">Medians over the repeats that finished. ESS/s = min bulk ESS / sampling seconds; '
               '"incl. all" divides by the whole run (start-up, compile, warm-up, sampling). Divergences are summed '
               'over runs; R-hat is the worst over runs and parameters (needs &ge; 2 chains).</p>')
    errors = [(g, e) for g in group_rows(rows) for e in g["errors"]]
    if errors:
        out.append("<h3>Runs that did not finish</h3>")
        for g, (repeat, status, error) in errors:
            summary = f"{g['backend']}{_size_label(g['size'])} repeat {repeat}: {status} — {first_line(error, 140)}"
            out.append(f'<details><summary class="fail">{_e(summary)}</summary>'
                       f'<pre>{_e(error.strip() or status)}</pre></details>')
    return "\n".join(out)


def _sbc_section(model: str, inputs: ReportInputs, backends: list[str]) -> str:
    sbc = sbc_verdicts(inputs.sbc)
    found = [(b, sbc[(model, b)]) for b in backends if (model, b) in sbc]
    found += [(b, r) for (m, b), r in sbc.items() if m == model and b not in backends]
    if not found:
        where = "no SBC output found" if inputs.sbc is None else "the SBC output has no rows for this model"
        return f'<h3>Simulation-based calibration</h3><p class="warn">No SBC results ({_e(where)}).</p>'
    cols = [("verdict", "verdict"), ("verdict_no_divergent", "verdict w/o divergent"), ("sims", "sims"),
            ("failed_frac", "failed"), ("divergent_frac", "divergent"), ("coverage_50", "cov. 50%"),
            ("coverage_80", "cov. 80%"), ("coverage_95", "cov. 95%"), ("chi2_min_p", "min χ² p"),
            ("failed_quantities", "failed quantities"), ("verdict_reason", "why")]
    cols = [(c, h) for c, h in cols if any(c in r for _, r in found)]
    out = ["<h3>Simulation-based calibration</h3>", "<table><tr><th class=l>backend</th>"
           + "".join(f"<th>{_e(h)}</th>" for _, h in cols) + "</tr>"]
    for backend, r in found:
        cells = []
        for c, _ in cols:
            v = r.get(c)
            text = _cell_text(v) if not (isinstance(v, float) and math.isnan(v)) else "-"
            klass = _status_class(text) if c.startswith("verdict") else ""
            left = " l" if c in ("failed_quantities", "verdict_reason") else ""
            cells.append(f'<td class="{klass}{left}">{_e(text)}</td>')
        out.append(f"<tr><td class=l><b>{_e(backend)}</b></td>" + "".join(cells) + "</tr>")
    out.append("</table>")
    figs = []
    for backend, r in found:
        path = sbc_figure(r)
        if path is not None:
            b64 = base64.b64encode(path.read_bytes()).decode("ascii")
            figs.append(f'<figure>{_img(b64, f"SBC ECDF {model} {backend}")}'
                        f'<figcaption>{_e(backend)}: rank ECDF differences ({_e(r["verdict"])}; '
                        f'from {_e(r["sbc_dir"])})</figcaption></figure>')
        else:
            figs.append(f'<figure><p class="note">{_e(backend)}: no ECDF figure in {_e(r["sbc_dir"])}/figures</p></figure>')
    out.append('<div class="sbcfigs">' + "".join(figs) + "</div>")
    return "\n".join(out)


def _provenance_html(inputs: ReportInputs) -> str:
    m = inputs.manifest
    out = ['<h2 id="provenance">Provenance: what ran where</h2>']
    if not m:
        out.append('<p class="warn">The run directory has no manifest.json: where and how it ran is unknown.</p>')
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in provenance_facts(inputs))
    out.append(f'<dl class="prov">{facts}</dl>')
    packages = m.get("packages") or {}
    if packages:
        chips = "".join(f"<span>{_e(k)} {_e(v)}</span>" for k, v in packages.items())
        out.append(f"<h3>Packages</h3><div class=chips>{chips}</div>")
    versions = {}
    for _, r in inputs.frame.iterrows():
        v = r.get("versions")
        if isinstance(v, str) and v.strip().startswith("{"):
            versions.setdefault(r["backend"], v)
    if versions:
        out.append("<h3>Backend versions recorded by the cells</h3><dl class=prov>" + "".join(
            f"<dt>{_e(b)}</dt><dd>{_e(', '.join(f'{k} {x}' for k, x in json.loads(v).items()))}</dd>"
            for b, v in versions.items()) + "</dl>")
    thread_env = (m.get("settings") or {}).get("thread_env") or {}
    if thread_env:
        out.append("<h3>Thread and device environment of every cell</h3><div class=chips>"
                   + "".join(f"<span>{_e(k)}={_e(v)}</span>" for k, v in thread_env.items()) + "</div>")
    if inputs.equivalence is not None:
        out.append(f"<h3>Equivalence</h3><p>{_e(inputs.run_dir / 'equivalence.csv')}: "
                   f"{int((inputs.equivalence['status'] == 'pass').sum())}/{len(inputs.equivalence)} pairs pass.</p>")
    if inputs.sbc_dirs:
        out.append("<h3>SBC output used</h3><ul>")
        for d in inputs.sbc_dirs:
            try:
                created = json.loads((Path(d) / "manifest.json").read_text()).get("created", "?")
            except (OSError, json.JSONDecodeError, AttributeError):
                created = "no manifest"
            out.append(f"<li>{_e(d)} (created {_e(created)})</li>")
        out.append("</ul>")
    return "\n".join(out)


def html_report(inputs: ReportInputs) -> str:
    models = inputs.models()
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    body = [f"<h1>ppl-harness report: {_e(inputs.run_dir.name)}</h1>",
            f'<p class="sub">{_e(provenance_line(inputs).replace("`", ""))}<br>Report generated {_e(generated)}.</p>',
            "<nav>" + "".join(f'<a href="#m-{_e(m)}">{_e(m)}</a>' for m in models)
            + '<a href="#summary">summary table</a><a href="#provenance">provenance</a></nav>',
            '<h2 id="verdicts">Verdicts</h2>']
    for model in models:
        rows = inputs.frame[inputs.frame["model"] == model]
        items = "".join(f"<li>{_e(line)}</li>" for line in model_verdicts(model, rows, inputs))
        body.append(f'<p style="margin:10px 0 0"><b><a href="#m-{_e(model)}">{_e(model)}</a></b></p>'
                    f'<ul class="verdicts">{items}</ul>')
    for model in models:
        rows = inputs.frame[inputs.frame["model"] == model]
        body.append(f'<h2 id="m-{_e(model)}">{_e(model)}</h2>')
        desc = _description(model)
        if desc:
            body.append(f'<p class="desc">{_e(desc)}</p>')
        body.append(_img(figures.performance_figure(rows), f"ESS/s and time breakdown of {model}"))
        body.append(_model_table(model, rows, inputs))
        if figures.has_size_sweep(rows):
            body.append("<h3>Cost against data size</h3>")
            body.append(_img(figures.scaling_figure(rows), f"scaling of {model}"))
        body.append(_sbc_section(model, inputs, figures.backend_order(rows["backend"].unique())))
    body.append('<h2 id="summary">Summary table</h2>' + _markdown_html(markdown_summary(inputs.frame)))
    body.append(_provenance_html(inputs))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>ppl-harness report: {_e(inputs.run_dir.name)}</title><style>{CSS}</style></head>"
            "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")


def _markdown_html(md: str) -> str:
    """The pipe tables and bullet lists that ``harness.tables`` writes, as HTML."""
    out, rows, items = [], [], []

    def flush():
        if rows:
            head, body = rows[0], rows[1:]
            out.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in head) + "</tr>" + "".join(
                "<tr>" + "".join(f'<td{" class=l" if i < 2 or i == len(r) - 1 else ""}>{_e(c)}</td>'
                                 for i, c in enumerate(r)) + "</tr>" for r in body) + "</table>")
            rows.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in md.splitlines():
        line = line.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):
                rows.append(cells)
        elif line.startswith("- "):
            items.append(line[2:])
        else:
            flush()
            if line:
                out.append(f"<p>{_e(line)}</p>")
    flush()
    return "\n".join(out)


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
