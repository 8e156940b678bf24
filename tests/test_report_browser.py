"""The HTML report renders in a real browser: headless Chromium (Debian's ``chromium`` package) driven
through the DevTools protocol by Playwright, never Playwright's own browser download.

Checks on a report of the small run of ``tests/report_run.py`` plus an SBC output: every <img> loaded
(naturalWidth > 0), no console error, no page error, no failed request, the tables present, the
overview figure first, and every figure with a caption. Skipped when Chromium or Playwright is
missing, except under CI (``CI=true``), where that fails the test: ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
import shutil

import pytest

from harness.cli import main
from tests.report_run import make_report_run, make_sbc_dir


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run; .ci/run installs chromium)")
    pytest.skip(reason)


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("chromium is not installed (Debian: apt-get install chromium)")
    return str(path)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    run_dir = make_report_run(tmp_path_factory.mktemp("run") / "run")
    sbc = make_sbc_dir(tmp_path_factory.mktemp("sbc") / "20260101T000000Z")
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(run_dir), "--sbc", str(sbc), "--out", str(out)]) == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def page(request):
    """The report loaded in headless Chromium, with what the browser reported while loading it."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    report_html = request.getfixturevalue("report_html")  # made only when a browser can open it
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        events: dict[str, list[str]] = {"console": [], "pageerror": [], "requestfailed": []}
        page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: events["pageerror"].append(str(e)))
        page.on("requestfailed", lambda r: events["requestfailed"].append(f"{r.url}: {r.failure}"))
        page.goto(report_html.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        yield page, events
        browser.close()


def test_no_console_errors(page):
    _, events = page
    assert not [m for m in events["console"] if m.startswith("error")], events["console"]
    assert not events["pageerror"] and not events["requestfailed"], events


def test_every_image_loaded(page):
    p, _ = page
    images = p.evaluate("Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth, "
                        "h: i.naturalHeight, shown: i.getBoundingClientRect().width}))")
    assert len(images) >= 6, images  # overview, 3 performance figures, accuracy z-scores, SBC ECDF
    for img in images:
        assert img["w"] > 0 and img["h"] > 0 and img["shown"] > 0, img


def test_overview_figure_comes_first(page):
    p, _ = page
    first = p.evaluate("(() => { const i = document.querySelector('img'); "
                       "return {id: i.id, w: i.naturalWidth, top: i.getBoundingClientRect().top}; })()")
    assert first["id"] == "overview-figure" and first["w"] > 500
    tops = p.evaluate("Array.from(document.images).map(i => i.getBoundingClientRect().top)")
    assert first["top"] == min(tops)
    headings = p.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.id)")
    assert headings[0] == "overview" and headings[1].startswith("c-") and headings[-3:] == ["summary", "phases", "provenance"]


def test_tables_present(page):
    p, _ = page
    tables = p.evaluate("Array.from(document.querySelectorAll('table')).map(t => ({rows: t.rows.length, "
                        "cols: t.rows[0].cells.length, visible: t.getBoundingClientRect().height > 0, "
                        "head: Array.from(t.rows[0].cells).map(c => c.textContent.trim())}))")
    assert all(t["visible"] and t["rows"] >= 2 for t in tables), tables
    heads = [t["head"] for t in tables]
    assert heads[0][:2] == ["backend", "median ESS/s ÷ best"] and len(heads[0]) == 6
    assert sum(h[:2] == ["model", "fastest backend"] for h in heads) == 3  # one per class
    assert any(h[:3] == ["model", "backend", "sampler"] for h in heads)  # the benchmark summary
    assert any(h[:2] == ["backend", "verdict"] for h in heads)  # accuracy verdicts


def test_every_figure_has_a_caption(page):
    p, _ = page
    figures = p.evaluate("Array.from(document.querySelectorAll('figure')).filter(f => f.querySelector('img'))"
                         ".map(f => (f.querySelector('figcaption') || {innerText: ''}).innerText)")
    assert figures and all(len(text.split()) > 15 for text in figures), figures
