"""The report's overview (heatmap of relative ESS/s, per-backend table, ``--overview PATH``), its
structure (overview, then classes, then models; a caption under every figure), the accuracy z-scores
and the SBC ECDF drawn from ranks. On the small run of ``tests/report_run.py``: no sampling."""

import base64
import math
import re

import pandas as pd
import pytest

from harness.accuracy import compare, load_reference, pool
from harness.cli import main
from harness.loaders import load_run
from harness.report.overview import backend_table, overview_cells, relative_text
from harness.report.zscores import model_accuracy, scalar_z
from tests.report_run import FAST, SLOW, make_report_run, make_sbc_dir
from tests.test_compare import make_run, record

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_report_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def cells(run_dir):
    frame, _ = load_run(run_dir)
    return overview_cells(frame).set_index(["model", "backend"])


@pytest.fixture(scope="module")
def report(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    sbc = make_sbc_dir(tmp_path_factory.mktemp("sbc") / "20260101T000000Z")
    assert main(["report", str(run_dir), "--sbc", str(sbc), "--out", str(out)]) == 0
    return out, (out / "report.html").read_text(), (out / "report.md").read_text()


def test_every_kind_of_cell(cells):
    nm, es, lr = "normal_mean", "eight_schools_noncentered", "logistic_regression"
    assert cells.loc[(nm, "numpyro"), "relative"] == 1 and cells.loc[(nm, "numpyro"), "best"]
    # the inaccurate backend is fast but is not the best: the others are measured against numpyro
    assert cells.loc[(nm, "stan"), "inaccurate"] and cells.loc[(nm, "stan"), "relative"] == 2
    assert cells.loc[(nm, "pymc"), "relative"] == pytest.approx(SLOW / FAST)
    assert cells.loc[(es, "stan"), "state"] == "failed" and math.isnan(cells.loc[(es, "stan"), "relative"])
    assert cells.loc[(lr, "numpyro"), "partial"] and cells.loc[(lr, "numpyro"), "state"] == "ok"
    assert cells.loc[(lr, "stan"), "state"] == "not implemented"
    assert cells.loc[(lr, "pymc"), "state"] == "not run"
    # grouped by class (the first catalogue tag), classes in alphabetical order
    assert list(dict.fromkeys(cells["klass"])) == ["glm", "hierarchical", "synthetic"]


def test_backend_table(cells):
    table = backend_table(cells.reset_index()).set_index("backend")
    assert list(table.index) == ["numpyro", "pymc", "stan"]  # sorted by the median, the inaccurate one last
    assert table.loc["numpyro", "median"] == 1 and table.loc["numpyro", "best"] == 2
    assert table.loc["stan", "failed"] == 1 and table.loc["stan", "inaccurate"] == 1
    assert math.isnan(table.loc["stan", "median"])  # its only finished model was inaccurate
    assert table.loc["numpyro", "failed"] == 1  # the partly failed cell counts
    assert [relative_text(v) for v in (1.0, 0.523, 0.0712, 0.0004, math.nan)] == ["1", "0.52", "0.071", "<0.001", "-"]


def test_overview_option_writes_only_the_figure(run_dir, tmp_path, capsys):
    png, svg = tmp_path / "docs" / "overview.png", tmp_path / "overview.svg"
    assert main(["report", str(run_dir), "--overview", str(png), "--overview", str(svg)]) == 0
    assert png.read_bytes()[:8] == PNG and svg.read_text().lstrip().startswith("<?xml")
    out = capsys.readouterr().out
    assert "| numpyro" in out and "median ESS/s ÷ best" in out
    assert not (run_dir / "report").exists()


def test_report_directory_and_markdown(report):
    out, _, md = report
    assert sorted(p.name for p in out.iterdir()) == ["overview.png", "overview.svg", "report.html", "report.md"]
    assert md.index("## Overview") < md.index("## Verdicts")
    assert "![ESS/s of every model x backend relative to the model's best backend](overview.png)" in md
    assert re.search(r"^\| numpyro +\| 1 +\| 2 of 3 +\| 1 +\| 0 +\| 3 of 3 +\|$", md, re.M)


def test_html_order_overview_classes_models(report):
    out, html, _ = report
    first_img = re.search(r'<img class="fig" id="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert first_img.group(1) == "overview-figure"
    assert base64.b64decode(first_img.group(2)) == (out / "overview.png").read_bytes()
    heads = re.findall(r'<h([23])[^>]* id="([^"]+)"', html)
    assert heads == [("2", "overview"), ("2", "c-glm"), ("3", "m-logistic_regression"), ("2", "c-hierarchical"),
                     ("3", "m-eight_schools_noncentered"), ("2", "c-synthetic"), ("3", "m-normal_mean"),
                     ("2", "summary"), ("2", "phases"), ("2", "provenance")]


def test_every_figure_has_a_caption(report):
    _, html, _ = report
    figures = re.findall(r"<figure>(.*?)</figure>", html, re.S)
    with_img = [f for f in figures if "<img" in f]
    assert len(with_img) == len(re.findall("<img", html)) >= 6  # overview, 3 models, z-scores, SBC
    for f in with_img:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", f, re.S)
        assert caption and len(re.sub("<[^>]+>", "", caption.group(1)).split()) > 15


def test_accuracy_z_scores_and_sbc_from_ranks(report):
    _, html, _ = report
    assert 'alt="accuracy z-scores of normal_mean"' in html and "Holm" in html
    section = html[html.index('id="a-normal_mean"'):]
    assert re.search(r'<b>stan</b></td><td class="fail">FAIL</td>', section)
    assert 'alt="SBC ECDF normal_mean numpyro"' in html
    assert "No z-score figure" not in section[:section.index("Simulation-based calibration")]
    # a model whose cells stored no statistics says so instead of drawing
    es = html[html.index('id="a-eight_schools_noncentered"'):]
    assert "No z-score figure: no per-cell statistics" in es[:es.index("Simulation-based calibration")]


def test_old_runs_without_statistics_say_so(tmp_path):
    run_dir = make_run(tmp_path / "run", [record(backend=b, accuracy="PASS", accuracy_z=0.5, accuracy_worst="mu")
                                          for b in ("numpyro", "stan")])
    assert main(["report", str(run_dir), "--no-sbc"]) == 0
    html = (run_dir / "report" / "report.html").read_text()
    assert "no per-cell statistics" in html and 'alt="accuracy z-scores' not in html
    assert '<td class="ok">PASS</td>' in html


def test_scalar_z_matches_the_verdict():
    ref, _ = load_reference("normal_mean")
    row = ref.set_index("parameter").loc["mu"]
    fit = pd.DataFrame({"parameter": "mu", "statistic": ["mean", "sd", "q05", "q95"],
                        "estimate": [row["mean"] + 0.01, row["sd"], row["q05"], row["q95"]],
                        "se": [0.002, 0.001, 0.003, 0.003]})
    z = scalar_z(ref, pool([fit])).set_index("statistic")["z"]
    assert z["mean"] == pytest.approx(0.01 / math.hypot(0.002, row["mcse_mean"]))
    verdict = compare(ref, pool([fit]))
    assert verdict["accuracy_z"] == pytest.approx(z.abs().max())


def test_model_accuracy_without_a_reference():
    frame = pd.DataFrame([{**record(model="no_such_model", size="", backend="numpyro"), "run_dir": "/nowhere",
                           "accuracy": "no reference"}])
    acc = model_accuracy("no_such_model", frame)
    assert acc.z.empty and acc.note == "no reference: no stored reference"
    assert list(acc.verdicts["verdict"]) == ["no reference"]
