"""JUnit XML of a comparison, which CI systems render as tests: one test case per row.

A row is one model x backend x metric (plus the correctness rows: equivalence pairs, SBC
verdicts). ``REGRESSION`` is a ``<failure>``; a row that could not be compared (no data, a cell
missing on one side, a new cell) is ``<skipped>``; everything else passes, with the row's detail in
``<system-out>`` (advisory slowdowns and expected changes included, so they show up in the CI view).
Environment differences are one more test case, failing only under ``--strict``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.compare.rows import MISSING, NEW, NOT_COMPARED, REGRESSION, Comparison, Row

SKIPPED = (NOT_COMPARED, MISSING, NEW)


def _classname(suite: str, row: Row) -> str:
    parts = [suite, row.model, row.backend + (f"@{row.size}" if row.size else "")]
    if row.device not in ("", "cpu"):
        parts.append(row.device)
    return ".".join(p.replace(".", "_") for p in parts if p)


def junit_tree(cmp: Comparison, suite: str = "ppl-harness") -> ET.ElementTree:
    cases = []
    for row in cmp.rows:
        case = ET.Element("testcase", classname=_classname(suite, row), name=f"{row.kind}: {row.metric}", time="0")
        summary = (f"baseline {row.base}, new {row.new}, change {row.change}"
                   + (f", detectable {row.detectable}" if row.detectable else "") + f": {row.verdict}")
        if row.verdict == REGRESSION:
            ET.SubElement(case, "failure", message=f"{row.metric}: {row.base} -> {row.new} ({row.change})",
                          type="regression").text = row.detail
        elif row.verdict in SKIPPED:
            ET.SubElement(case, "skipped", message=f"{row.verdict}: {row.detail}")
        ET.SubElement(case, "system-out").text = summary + (f"\n{row.detail}" if row.detail else "")
        cases.append(case)
    env = ET.Element("testcase", classname=f"{suite}.environment", name="machine, packages and settings", time="0")
    if cmp.warnings and cmp.strict:
        ET.SubElement(env, "failure", message=f"{len(cmp.warnings)} environment difference(s) (--strict)",
                      type="environment").text = "\n".join(cmp.warnings)
    ET.SubElement(env, "system-out").text = "\n".join(cmp.warnings) or "no differences"
    cases.append(env)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    testsuite = ET.Element("testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors="0",
                           skipped=str(skipped), time="0")
    props = ET.SubElement(testsuite, "properties")
    ET.SubElement(props, "property", name="baseline", value=str(cmp.base_dir))
    ET.SubElement(props, "property", name="new", value=str(cmp.new_dir))
    testsuite.extend(cases)
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(failures), errors="0",
                      skipped=str(skipped))
    root.append(testsuite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(cmp: Comparison, path: str | Path, suite: str = "ppl-harness") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(cmp, suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
