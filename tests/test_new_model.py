"""``harness new-model`` on the two user examples, and its clear errors on bad input."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends import unavailable_reason
from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYMC_EXAMPLE = ROOT / "examples" / "pymc_hierarchical"
STAN_EXAMPLE = ROOT / "examples" / "stan_negbin"
needs_pymc = pytest.mark.skipif(bool(unavailable_reason("pymc")), reason="PyMC not installed")
needs_stan = pytest.mark.skipif(bool(unavailable_reason("stan")), reason="PyStan not installed")


def harness(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=900)


def error_of(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    return capsys.readouterr().err


@needs_pymc
def test_pymc_file_and_csv_make_a_checked_model_folder(tmp_path):
    done = harness("new-model", "school_scores", "--from", str(PYMC_EXAMPLE / "school_scores.py"),
                   "--data", str(PYMC_EXAMPLE / "scores.csv"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "school_scores"
    assert sorted(p.name for p in folder.iterdir() if p.name != "__pycache__") == [
        "README.md", "data.csv", "model.py", "pymc_model.py"]
    text = (folder / "model.py").read_text()
    for line in ('Param("mu_a")', 'Param("sigma_a", support="positive")', 'Param("a", (20,))',
                 'observed=("score",)', 'simulator="pymc"', 'rows=""'):
        assert line in text
    assert "pass" in done.stdout and "is ready" in done.stdout


@needs_stan
def test_stan_file_and_json_make_a_checked_model_folder(tmp_path):
    done = harness("new-model", "bike_rentals", "--from", str(STAN_EXAMPLE / "bike_rentals.stan"),
                   "--data", str(STAN_EXAMPLE / "rentals.json"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "bike_rentals" / "model.py").read_text()
    for line in ('Param("phi", support="positive")', 'observed=("rentals",)', 'simulator="stan"', 'rows="N"'):
        assert line in text


def test_bad_names_files_and_formats(capsys, tmp_path):
    assert "use lower-case letters" in error_of(capsys, "new-model", "My-Model", "--from", "x.stan")
    assert "no such file" in error_of(capsys, "new-model", "m", "--from", str(tmp_path / "missing.stan"))
    other = tmp_path / "model.R"
    other.write_text("y ~ x\n")
    assert "not an implementation the harness reads" in error_of(capsys, "new-model", "m", "--from", str(other))
    data = tmp_path / "data.xlsx"
    data.write_text("")
    message = error_of(capsys, "new-model", "m", "--from", str(STAN_EXAMPLE / "bike_rentals.stan"), "--data", str(data))
    assert "data.xlsx" in message and ".csv" in message


@needs_stan
def test_a_stan_file_that_does_not_compile_shows_stancs_message(capsys, tmp_path):
    bad = tmp_path / "bad.stan"
    bad.write_text("data { int N; vector[N] y; }\nparameters { real mu; real<lower=0> sigma }\n"
                   "model { y ~ normal(mu, sigma); }\n")
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"N": 2, "y": [0.1, 0.2]}))
    message = error_of(capsys, "new-model", "bad", "--from", str(bad), "--data", str(data), "--out", str(tmp_path))
    assert "does not compile; stanc says" in message and "line 2" in message and "Traceback" not in message


@needs_stan
def test_data_that_do_not_fit_the_stan_data_block(capsys, tmp_path):
    data = tmp_path / "rentals.json"
    data.write_text(json.dumps({"N": 2, "temp": [0.1, 0.2], "rentals": [3, 4]}))
    message = error_of(capsys, "new-model", "bikes", "--from", str(STAN_EXAMPLE / "bike_rentals.stan"),
                       "--data", str(data), "--out", str(tmp_path))
    assert "lack entries" in message and "weekend" in message
    data.write_text(json.dumps({"N": 2, "temp": [[0.1, 0.2]], "weekend": [0, 1], "rentals": [3, 4]}))
    message = error_of(capsys, "new-model", "bikes", "--from", str(STAN_EXAMPLE / "bike_rentals.stan"),
                       "--data", str(data), "--out", str(tmp_path))
    assert "'temp' has 2 dimension(s)" in message


@needs_pymc
def test_a_pymc_file_that_does_not_build(capsys, tmp_path):
    bad = tmp_path / "model.py"
    bad.write_text("import pymc as pm\n\ndef build(data):\n    return data['nope']\n")
    message = error_of(capsys, "new-model", "m", "--from", str(bad), "--data", str(PYMC_EXAMPLE / "scores.csv"),
                       "--out", str(tmp_path / "out"))
    assert "build(data) raised KeyError" in message and "school_id" in message
    bad.write_text("import pymc as pm\n")
    message = error_of(capsys, "new-model", "m", "--from", str(bad), "--out", str(tmp_path / "out"))
    assert "defines no build(data)" in message


@needs_pymc
def test_a_declaration_that_differs_from_its_implementation_is_named(tmp_path):
    assert harness("new-model", "school_scores", "--from", str(PYMC_EXAMPLE / "school_scores.py"), "--data",
                   str(PYMC_EXAMPLE / "scores.csv"), "--out", str(tmp_path), "--no-check").returncode == 0
    model = tmp_path / "school_scores" / "model.py"
    model.write_text(model.read_text().replace('Param("a", (20,))', 'Param("a", (21,))'))
    done = subprocess.run([sys.executable, "-m", "harness.equivalence", "--models", "school_scores", "--backends",
                           "pymc", "--catalogue", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode != 0
    assert "a has shape (20,); model.py declares (21,)" in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_a_folder_without_a_declaration(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "without a model.py" in error_of(capsys, "choose", str(tmp_path / "empty"))
    shutil.copyfile(STAN_EXAMPLE / "bike_rentals.stan", tmp_path / "empty" / "model.stan")
    assert "without a model.py" in error_of(capsys, "choose", str(tmp_path / "empty"))


@needs_stan
def test_a_support_it_cannot_state_is_refused_with_the_reason(capsys, tmp_path):
    program = tmp_path / "garch.stan"
    program.write_text("data { int N; vector[N] y; }\nparameters {\n real<lower=0, upper=1> a;\n"
                       " real<lower=0, upper=(1 - a)> b;\n}\nmodel { y ~ normal(a, b); }\n")
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"N": 2, "y": [0.1, 0.2]}))
    message = error_of(capsys, "new-model", "garch", "--from", str(program), "--data", str(data), "--out", str(tmp_path))
    assert "cannot state the support of b" in message and "depends on another parameter" in message
