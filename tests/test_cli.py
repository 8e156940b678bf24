"""The command line as a user meets it."""

import subprocess
import sys

from tests.helpers import has_row


def harness(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout)


def test_list_shows_models_backends_and_availability():
    out = harness("list")
    assert out.returncode == 0, out.stderr
    for name in ("normal_mean", "eight_schools_uniform", "logistic_regression", "errors_in_variables"):
        assert name in out.stdout
    for name in ("pymc", "numpyro", "pyro", "stan"):
        assert name in out.stdout
    assert "fake_missing" in out.stdout and "unavailable: not installed: a_library_that_is_not_installed" in out.stdout
    assert has_row(out.stdout, "backend", "family") and has_row(out.stdout, "nutpie", "pymc")  # each backend's family


def test_bad_input_exits_2_with_one_clear_line():
    out = harness("run", "--models", "eight_school", "--no-progress")
    assert out.returncode == 2
    assert "unknown model 'eight_school'; valid models:" in out.stderr
    assert "Traceback" not in out.stderr
    out = harness("run", "--draws", "-5", "--no-progress")
    assert out.returncode == 2 and "draws must be a positive integer" in out.stderr


def test_run_prints_the_table_and_writes_results(tmp_path):
    out = harness("run", "--models", "normal_mean", "--backends", "fake_exact,fake_raise", "--chains", "2",
                  "--warmup", "10", "--draws", "100", "--repeats", "2", "--out", str(tmp_path / "r"),
                  "--no-progress")
    assert out.returncode == 0, out.stderr
    assert has_row(out.stdout, "model", "backend", "sampler", "compile s")
    assert has_row(out.stdout, "normal_mean (K=1000)", "fake_exact", "fake_exact")
    assert "failed 2/2" in out.stdout and "deliberate failure" in out.stdout
    assert "log-density equivalence:" in out.stdout
    assert (tmp_path / "r" / "results.csv").exists() and (tmp_path / "r" / "equivalence.csv").exists()


def test_version_and_help_show_defaults_and_examples(capsys):
    import pytest

    from harness import __version__
    from harness.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"ppl-harness {__version__}"
    with pytest.raises(SystemExit):
        main(["reference", "--help"])
    text = capsys.readouterr().out
    assert "root seed of the reference run (default: 0)" in text and "examples:" in text


def test_usage_names_the_way_the_harness_was_started(monkeypatch):
    from harness.cli import build_parser

    monkeypatch.setattr("sys.argv", ["/venv/bin/ppl-harness", "--help"])
    assert build_parser()[0].format_usage().startswith("usage: ppl-harness")
    monkeypatch.setattr("sys.argv", ["/repo/harness/__main__.py", "--help"])
    assert build_parser()[0].format_usage().startswith("usage: python -m harness")
