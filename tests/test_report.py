"""The report: rendered from a small real run (Stan and the fake backends, two data sizes, one failing
backend) plus a fake SBC output; the HTML must be self-contained and hold every section a reader needs."""

import base64
import re

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from harness.backends import unavailable_reason  # noqa: E402
from harness.cli import main  # noqa: E402
from harness.loaders import load_run  # noqa: E402
from harness.run.plan import RunPlan  # noqa: E402
from harness.run.runner import run  # noqa: E402
from harness.run.summary import markdown_summary  # noqa: E402
from harness.settings import SamplerSettings  # noqa: E402
from tests.helpers import has_row  # noqa: E402
from tests.test_compare import make_run, record  # noqa: E402

IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """normal_mean at K=100 and K=1000 x stan (real NUTS) and fake_raise (fails at compile): ~20 s."""
    out = tmp_path_factory.mktemp("run") / "run"
    plan = RunPlan(models=["normal_mean"], backends=["stan", "fake_raise"],
                   settings=SamplerSettings(chains=2, warmup=100, draws=100), sizes=[{"K": 100}, {"K": 1000}])
    run(plan, out, progress=False)
    return out


@pytest.fixture(scope="module")
def sbc_dir(tmp_path_factory):
    """A fake SBC output: summary.csv and one small ECDF figure."""
    root = tmp_path_factory.mktemp("sbc") / "20260101T000000Z"
    (root / "figures").mkdir(parents=True)
    pd.DataFrame([
        {"model": "normal_mean", "backend": "stan", "sims": 100, "ok": 100, "failed": 0, "failed_frac": 0.0,
         "divergent_frac": 0.0, "verdict": "pass", "verdict_no_divergent": "pass", "failed_quantities": "",
         "coverage_50": 0.51, "coverage_80": 0.79, "coverage_95": 0.95, "chi2_min_p": 0.3, "reps_per_s": 2.0,
         "wall_s": 50.0},
        {"model": "normal_mean", "backend": "fake_exact", "sims": 100, "ok": 100, "failed": 0, "failed_frac": 0.0,
         "divergent_frac": 0.0, "verdict": "fail", "verdict_no_divergent": "fail", "failed_quantities": "mu",
         "coverage_50": 0.2, "coverage_80": 0.4, "coverage_95": 0.6, "chi2_min_p": 1e-9, "reps_per_s": 9.0,
         "wall_s": 11.0},
    ]).to_csv(root / "summary.csv", index=False)
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    ax.plot([0, 1], [0, 0.1])
    fig.savefig(root / "figures" / "normal_mean__stan.png")
    plt.close(fig)
    (root / "manifest.json").write_text('{"created": "2026-01-01T00:00:00+00:00"}')
    return root


@pytest.fixture(scope="module")
def rendered(real_run, sbc_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(real_run), "--sbc", str(sbc_dir), "--out", str(out)]) == 0
    return out, (out / "report.html").read_text(), (out / "report.md").read_text()


def test_the_real_run_ran(real_run):
    frame, _ = load_run(real_run)
    assert set(frame["size"]) == {"K=100", "K=1000"}
    assert (frame.loc[frame["backend"] == "fake_raise", "status"] == "failed").all()
    if unavailable_reason("stan") is None:
        assert (frame.loc[frame["backend"] == "stan", "status"] == "ok").all()


def test_html_is_one_self_contained_file_with_every_figure_embedded(rendered, sbc_dir):
    out, html, _ = rendered
    assert sorted(p.name for p in out.iterdir()) == ["overview.png", "overview.svg", "report.html", "report.md"]
    assert not re.search(r'(src|href)="(https?:|file:|//)', html) and "<link" not in html and "<script" not in html
    images = IMG.findall(html)
    assert len(images) >= 4  # overview, ESS/s + time breakdown, cost vs data size, the SBC ECDF
    for b64 in images:
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 500
    sbc_png = base64.b64encode((sbc_dir / "figures" / "normal_mean__stan.png").read_bytes()).decode()
    assert sbc_png in images


def test_html_sections(rendered, real_run):
    _, html, _ = rendered
    assert '<h3 class="model" id="m-normal_mean">normal_mean</h3>' in html
    assert "Normal mean with known unit noise" in html  # the catalogue description
    assert "<h4>Cost against data size</h4>" in html
    assert 'id="s-normal_mean">Simulation-based calibration</h4>' in html and "rank ECDF differences (pass" in html
    assert "fake_exact: no ECDF figure" in html  # an SBC row of a backend the run does not have is still shown
    # failed cells are shown with their error
    assert "<h4>Runs that did not finish</h4>" in html
    assert html.count("fake_raise (K=100) repeat 0: failed") == 1 and "deliberate failure at compile" in html
    # provenance block: what ran where
    _, manifest = load_run(real_run)
    assert '<h2 id="provenance">Provenance: what ran where</h2>' in html
    for text in (manifest["machine"]["cpu"], manifest["machine"]["python"], "OMP_NUM_THREADS=1",
                 f"pystan {manifest['packages'].get('pystan', '')}".strip(), "chains 2, warmup 100, draws 100"):
        assert text in html, text


def test_markdown_summary_for_a_ci_job(rendered, real_run):
    _, _, md = rendered
    frame, _ = load_run(real_run)
    assert md.startswith("# ppl-harness report: run\n")
    assert "## Verdicts" in md and "- **normal_mean**" in md
    assert markdown_summary(frame) in md
    sbc_line = next(line for line in md.splitlines() if "SBC:" in line)
    assert "stan pass" in sbc_line and "no SBC result: fake_raise" in sbc_line
    assert "fake_raise failed 1/1: RuntimeError: deliberate failure at compile" in md
    assert has_row(md, "normal_mean", "stan", "pass")  # the SBC table
    eq_line = next(line for line in md.splitlines() if "equivalence:" in line)
    assert ("not run" in eq_line) != (real_run / "equivalence.csv").exists()


def test_no_sbc_results_is_said(real_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no results/sbc here
    assert main(["report", str(real_run), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "SBC: no SBC results" in out and "No SBC results" in out
    assert "No SBC results" in (tmp_path / "r" / "report.html").read_text()


def test_default_output_next_to_the_run_and_job_summary(tmp_path, monkeypatch):
    run_dir = make_run(tmp_path / "run", [record(backend=b, repeat=r) for b in ("numpyro", "stan") for r in range(3)])
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report" / "report.html").exists()
    assert summary.read_text().startswith("# ppl-harness report: run")


def test_runs_without_any_success_still_render(tmp_path):
    records = [record(model="eight_schools_noncentered", size="", backend="stan", status="failed",
                      error="ValueError: nope"),
               record(model="eight_schools_noncentered", size="", backend="numpyro", status="unavailable",
                      error="backend 'numpyro' is unavailable here: not installed: jax")]
    run_dir = make_run(tmp_path / "run", records, manifest=False)
    assert main(["report", str(run_dir), "--no-sbc"]) == 0
    html = (run_dir / "report" / "report.html").read_text()
    assert "no backend finished a run" in html and "not installed: jax" in html
    assert "has no manifest.json" in html
    assert "Cost against data size" not in html


def test_bad_input(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    run_dir = make_run(tmp_path / "run", [record()])
    assert main(["report", str(run_dir), "--sbc", str(tmp_path)]) == 2
    assert "not an SBC output directory" in capsys.readouterr().err
