"""The comparison as Markdown (``templates/compare.md.j2``): provenance lines, rules, one table per model."""

from __future__ import annotations

import json
from pathlib import Path

from harness.compare.rows import ADVISORY, CHANGED, EXPECTED, IMPROVED, OK, REGRESSION, Comparison
from harness.compare.stats import DEFAULT_ALPHA, DEFAULT_FACTOR, repeats_needed
from harness.tables import markdown_table
from harness.templates import render

TABLE_HEADERS = ["backend", "kind", "metric", "baseline", "new", "change", "detectable", "verdict", "detail"]
_MARK = {REGRESSION: "**REGRESSION**", IMPROVED: "improved", CHANGED: "changed", OK: "ok", ADVISORY: "*worse (advisory)*"}


def manifest_line(label: str, path: Path) -> str:
    try:
        m = json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return f"{label}: `{path}` (no manifest)"
    machine, git = m.get("machine") or {}, m.get("git") or {}
    commit = (git.get("commit") or "no git")[:10] + (" dirty" if git.get("dirty") else "")
    line = (f"{label}: `{path}` ({m.get('created', '?')}, {machine.get('cpu', '?')}, "
            f"{machine.get('cpu_count', '?')} cores, commit {commit})")
    ab = m.get("ab") or {}
    if ab:
        versions = ", ".join(f"{k} {v}" for k, v in sorted((ab.get("versions") or {}).items()))
        line += f"; A/B side {ab.get('side', '?')}: `{ab.get('spec', '?')}` ({ab.get('kind', '?')})"
        line += f"; {versions}" if versions else ""
    return line


def _tables(cmp: Comparison, show_ok: bool) -> list[tuple[str, str]]:
    out = []
    for model in dict.fromkeys(r.model for r in cmp.rows):
        mine = [r for r in cmp.rows if r.model == model and (show_ok or r.verdict != OK)]
        if not mine:
            continue
        cells = []
        for r in mine:
            who = r.backend + (f" ({r.size})" if r.size else "") + (f" [{r.device}]" if r.device not in ("", "cpu") else "")
            cells.append([who, r.kind, r.metric, r.base, r.new, r.change, r.detectable or "-",
                          _MARK.get(r.verdict, r.verdict), r.detail])
        out.append((model, markdown_table(cells, TABLE_HEADERS)))
    return out


def _result(cmp: Comparison) -> tuple[str, list[str]]:
    regs = cmp.regressions
    if regs:
        return (f"**Result: {len(regs)} regression(s)**",
                [f"{r.model}{f' ({r.size})' if r.size else ''} / {r.backend} / {r.metric}: {r.base} -> {r.new} ({r.detail})"
                 for r in regs])
    if cmp.strict and cmp.warnings:
        return f"**Result: no regression, but {len(cmp.warnings)} environment difference(s) (--strict)**", []
    changed = [r for r in cmp.rows if r.verdict in (CHANGED, EXPECTED)]
    advisory = [r for r in cmp.rows if r.verdict == ADVISORY]
    extra = [f"{len(changed)} change(s) reported"] if changed else []
    extra += [f"{len(advisory)} advisory slowdown(s), too few repeats to decide"] if advisory else []
    return "**Result: no regression**" + (f" ({'; '.join(extra)})" if extra else ""), []


def markdown(cmp: Comparison, factor: float = DEFAULT_FACTOR, alpha: float = DEFAULT_ALPHA,
             show_ok: bool = True, title: str = "ppl-harness compare") -> str:
    def root(p: Path) -> Path:
        return p if p.is_dir() else p.parent

    result, regressions = _result(cmp)
    return render("compare.md.j2", title=title, base=manifest_line("baseline", root(cmp.base_dir)),
                  new=manifest_line("new", root(cmp.new_dir)), factor=f"{factor:g}", alpha=f"{alpha:g}",
                  repeats=repeats_needed(alpha), strict=cmp.strict, warnings=cmp.warnings, notes=cmp.notes,
                  tables=_tables(cmp, show_ok), result=result, regressions=regressions)
