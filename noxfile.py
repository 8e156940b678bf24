"""Sessions: ``nox -s tests`` (default), ``tests_oldest``, ``bench``, ``sbc``, ``report``, ``regression``,
``perf``, ``lint``, ``docs``, ``gpu_check``, ``cmdstan``.

Two software stacks, each one virtualenv in the harness cache (``$PPL_HARNESS_CACHE/venvs/<stack>``,
default ``~/.cache/ppl-harness``) shared by every session and every checkout that uses it, so the
install, httpstan's model builds (keyed by the Python executable) and JAX caches are made once:

* ``newest`` (Python 3.12): the current releases (PyMC 6 with PyTensor 3, ArviZ 1.x, JAX, NumPyro,
  BlackJAX, nutpie, Pyro with torch 2.14, PyStan 3.14 / httpstan 4.17, cmdstanpy). Every session but
  ``tests_oldest`` runs on it.
* ``oldest`` (Python 3.11): the oldest stack the harness supports and tests (PyMC 5.28, ArviZ 0.23,
  JAX 0.10, torch 2.13 CPU, PyStan 3.10 / httpstan 4.13).

torch is installed first with its pin, so that pyro-ppl does not pull another build. Interpreters
are found on PATH or, failing that, in pyenv's versions directory, so a machine with pyenv needs
no configuration.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests"]

ROOT = Path(__file__).resolve().parent
RUNS = Path("results") / "runs"
BASELINE = Path("results") / "baselines" / "quick"

STACKS = {
    "newest": {"python": "3.12", "torch": "torch==2.14.1", "pins": ["pymc>=6", "arviz>=1.1"]},
    "oldest": {
        "python": "3.11",
        "torch": "torch==2.13.0",
        "pins": ["pymc==5.28.5", "arviz==0.23.4", "numpyro==0.22.0", "jax==0.10.2", "jaxlib==0.10.2",
                 "pyro-ppl==1.9.2", "pystan==3.10.0", "httpstan==4.13.0"],
    },
}


def find_python(version: str) -> str:
    """``pythonX.Y`` on PATH if it runs, else the newest pyenv install of that version.

    A pyenv shim is on PATH for every installed version but fails ("command not found") unless that
    version is active, so a candidate from PATH must start before it is used.
    """
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
        return found
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")))
    if not candidates:
        raise RuntimeError(f"Python {version} not found on PATH or under {pyenv_root}/versions; install it "
                           f"(e.g. `pyenv install {version}`)")
    return candidates[-1]


def cache_root() -> Path:
    return Path(os.environ.get("PPL_HARNESS_CACHE", Path.home() / ".cache" / "ppl-harness"))


def stack_python(session: nox.Session, stack: str = "newest") -> str:
    """The stack's shared virtualenv (created on first use; reinstalled when pins, pyproject or checkout change).

    Creation and installation hold a lock next to the virtualenv (``filelock``, which nox itself
    depends on): a second session started meanwhile (CI running lint and tests in parallel, a bench in
    one terminal and the tests in another) waits, then reuses the first one's work instead of finding a
    half-made virtualenv or installing into it at the same time. A virtualenv left half-made by a
    killed session (no marker, no pip) is made again.
    """
    from filelock import FileLock

    spec = dict(STACKS[stack])
    # e.g. PPL_HARNESS_NEWEST_PYTHON=3.13: the same stack on another interpreter, in its own venv
    spec["python"] = os.environ.get(f"PPL_HARNESS_{stack.upper()}_PYTHON", spec["python"])
    venv = cache_root() / "venvs" / (stack if spec["python"] == STACKS[stack]["python"] else f"{stack}-py{spec['python']}")
    python = venv / "bin" / "python"
    extras = os.environ.get("PPL_HARNESS_EXTRAS", "all,test,lint")
    state = (ROOT / "pyproject.toml").read_text() + repr(spec) + extras + str(ROOT)
    wanted = hashlib.sha256(state.encode()).hexdigest()
    marker = venv / ".ppl-harness-installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".lock"):
        if not marker.exists() and (not python.exists() or not _runs(python, "-m", "pip", "--version")):
            session.run(find_python(spec["python"]), "-m", "venv", "--clear", str(venv), external=True)
        if not marker.exists() or marker.read_text() != wanted:
            pip = [str(python), "-m", "pip", "install", "--quiet"]
            session.run(*pip, "--upgrade", "pip", "setuptools<81", "wheel", external=True)
            session.run(*pip, spec["torch"], external=True)
            session.run(*pip, "-e", f".[{extras}]", spec["torch"], *spec["pins"], external=True)
            marker.write_text(wanted)
    session.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    session.env["VIRTUAL_ENV"] = str(venv)
    return str(python)


def install_extra(session: nox.Session, python: str, extra: str) -> None:
    """Install the ``extra`` of ``pyproject.toml`` into the virtualenv of ``python``, on top of the stack
    (once; again when the extra's requirements change, or when the virtualenv is made anew)."""
    import tomllib

    from filelock import FileLock

    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][extra]
    venv = Path(python).parent.parent
    marker = venv / f".ppl-harness-extra-{extra}"
    wanted = hashlib.sha256(repr(requirements).encode()).hexdigest()
    with FileLock(str(venv) + ".lock"):
        if not marker.exists() or marker.read_text() != wanted:
            session.run(python, "-m", "pip", "install", "--quiet", *requirements, external=True)
            marker.write_text(wanted)


def _runs(python: Path, *args: str) -> bool:
    return subprocess.run([str(python), *args], capture_output=True).returncode == 0


def stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def latest(base: Path, prefix: str = "") -> Path | None:
    """The most recently written run directory under ``base`` (optionally whose name starts with prefix)."""
    runs = [p for p in base.glob(f"{prefix}*") if (p / "manifest.json").is_file()] if base.is_dir() else []
    return max(runs, key=lambda p: (p / "manifest.json").stat().st_mtime) if runs else None


def harness(session: nox.Session, python: str, *args: str) -> None:
    session.run(python, "-m", "harness", *args, external=True)


def run_tests(session: nox.Session, stack: str, default: str = "not slow") -> None:
    python = stack_python(session, stack)
    args = session.posargs or ["-m", default]
    # exit code 5 = no test selected (e.g. an empty marker selection): not a failure
    session.run(python, "-m", "pytest", *args, external=True, success_codes=[0, 5])


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite on the newest stack (``nox -s tests -- -m slow`` for the long tests)."""
    run_tests(session, "newest")


@nox.session(python=False)
def tests_oldest(session: nox.Session) -> None:
    """The test suite on the oldest supported stack (Python 3.11, PyMC 5, ArviZ 0.x, torch 2.13).

    Cases of single catalogue models outside the quick suite (``catalogue``, ``tests/conftest.py``)
    are left out: the ports are checked on the newest stack, and the whole suite on both stacks
    would take longer than CI has (``nox -s tests_oldest -- -m "not slow"`` runs them).
    """
    run_tests(session, "oldest", "not slow and not catalogue")


@nox.session(python=False)
def equivalence(session: nox.Session) -> None:
    """Every catalogue model x every backend, Stan's builds of every model included (about two per
    model, a minute each on a cold cache): what ``nox -s tests`` checks on a subset (tests/helpers.py)."""
    python = stack_python(session)
    session.run(python, "-m", "pytest", "tests/test_equivalence.py", "-m", "not gpu", *session.posargs,
                external=True)


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """The benchmark: the standard suite (the smallest model of every class) x every backend, 4 chains x
    1000 warm-up x 1000 draws; ``nox -s bench -- --suite full`` for every model.

    Prints what it will run and a cost estimate first. Cells run side by side on an embedded Dask cluster,
    each on its own core, each within the suite's time budget; each ok cell's draws are kept as ArviZ
    InferenceData in ``<run>/draws/``.
    """
    python = stack_python(session)
    out = RUNS / f"bench-{stamp()}"
    harness(session, python, "run", "--suite", "standard", "--chains", "4", "--warmup", "1000", "--draws", "1000",
            "--repeats", "1", "--save-draws", "--out", str(out), *session.posargs)


@nox.session(python=False)
def sbc(session: nox.Session) -> None:
    """Simulation-based calibration of every model x backend (see README for its run time)."""
    python = stack_python(session)
    harness(session, python, "sbc", *session.posargs)


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """HTML + Markdown report of the latest benchmark run (or the run given after --)."""
    python = stack_python(session)
    run_dir = session.posargs[0] if session.posargs else (latest(RUNS, "bench-") or latest(RUNS))
    if run_dir is None:
        session.error("no benchmark run under results/runs; run `nox -s bench` first")
    harness(session, python, "report", str(run_dir), *session.posargs[1:])


@nox.session(python=False)
def regression(session: nox.Session) -> None:
    """CI regression gate: interleaved A/B of the working tree against a git ref on the quick suite.

    The ref is ``$PPL_HARNESS_AB_REF``, else ``origin/main`` when it exists, else ``HEAD~1`` (the
    session says which it used). ``nox -s regression -- --baseline`` compares a fresh quick-suite run
    with the committed ``results/baselines/quick`` instead. Writes compare.md and junit.xml; exit 1 on a
    regression, 2 on bad input or a side that failed. Other arguments go to ``harness ab`` /
    ``harness compare``.
    """
    python = stack_python(session)
    out = RUNS / f"regression-{stamp()}"
    args = list(session.posargs)
    if "--baseline" in args:
        args.remove("--baseline")
        session.run(python, "-m", "harness.compare.quick", str(out), "--no-progress", external=True)
        harness(session, python, "compare", str(BASELINE), str(out), "--out", str(out / "compare.md"),
                "--junit", str(out / "junit.xml"), *args)
        return
    ref, why = default_ref()
    session.log(f"regression gate: side A is {ref} ({why})")
    harness(session, python, *regression_argv(ref, out, args))


def regression_argv(ref: str, out: Path, extra: list[str]) -> list[str]:
    """The ``harness ab`` command line of ``nox -s regression`` (``out`` relative to the working directory)."""
    return ["ab", "--a", ref, "--b", "current", "--out", str(out), "--no-progress", *extra]


def default_ref() -> tuple[str, str]:
    """(side A's git ref, why): ``$PPL_HARNESS_AB_REF``, ``origin/main``, or ``HEAD~1``."""
    if os.environ.get("PPL_HARNESS_AB_REF"):
        return os.environ["PPL_HARNESS_AB_REF"], "$PPL_HARNESS_AB_REF"
    if _default_ref() == "origin/main":
        return "origin/main", "origin/main exists"
    return "HEAD~1", "no $PPL_HARNESS_AB_REF and no origin/main: falling back to the previous commit"


def _default_ref() -> str:
    import subprocess

    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "origin/main"], cwd=ROOT,
                           capture_output=True, text=True).returncode == 0
    return "origin/main" if found else "HEAD~1"


@nox.session(python=False)
def perf(session: nox.Session) -> None:
    """Micro-benchmarks (tests/benchmarks) -> results/perf/<stamp>.json, compared with the last run.

    The cost of one call from Python to each model x backend's log density and gradient
    (``test_call_cost.py``; not the in-sampler cost per gradient, which is the bench's
    ``sampling_per_grad``), SBC's rank step and one SBC batch (``test_sbc_cost.py``).

    Every run is also saved in pytest-benchmark's storage (.benchmarks/); when an earlier run exists
    there, this one is compared with it and fails if a minimum got more than 25 % slower (the minimum:
    noise on a shared machine only ever adds time). Arguments after -- go to pytest, e.g.
    ``-- --benchmark-compare=0001 --benchmark-compare-fail=median:10%`` or ``-- -k normal_mean``.
    """
    python = stack_python(session)
    perf_dir = Path("results") / "perf"
    perf_dir.mkdir(parents=True, exist_ok=True)
    args = [python, "-m", "pytest", "tests/benchmarks", "--run-perf", "--benchmark-only",
            f"--benchmark-json={perf_dir / (stamp() + '.json')}", "--benchmark-storage=file://.benchmarks",
            "--benchmark-autosave", "--benchmark-columns=min,median,mean,stddev,rounds"]
    saved = list(Path(".benchmarks").glob("*/*.json"))
    if saved and not any(a.startswith("--benchmark-compare") for a in session.posargs):
        args += ["--benchmark-compare", "--benchmark-compare-fail=min:25%"]
    session.run(*args, *session.posargs, external=True)


@nox.session(python=False)
def gpu_check(session: nox.Session) -> None:
    """``harness gpu-check`` into results/gpu-check/<stamp> (``nox -s gpu_check -- --smoke`` on a CPU; CI runs that)."""
    python = stack_python(session)
    harness(session, python, "gpu-check", "--out", str(Path("results") / "gpu-check" / stamp()), *session.posargs)


@nox.session(python=False)
def cmdstan(session: nox.Session) -> None:
    """Build CmdStan offline into the harness cache when none is installed (``.ci/cmdstan.sh``: needs an
    offline CmdStan kit, ``$CMDSTAN_SHARED_DIR``). With internet access, install CmdStan the usual way
    instead: ``python -m cmdstanpy.install_cmdstan``.
    """
    session.run("bash", str(ROOT / ".ci" / "cmdstan.sh"), external=True)


@nox.session(python=False)
def docs(session: nox.Session) -> None:
    """The docs site (Sphinx, PyData theme, MyST Markdown) into docs/_build/html, warnings as errors.

    Installs the ``docs`` extra into the newest stack's virtualenv, then runs
    ``sphinx-build -W --keep-going -b html docs docs/_build/html``; arguments after -- go to
    sphinx-build first (``nox -s docs -- -E`` rebuilds every page).
    """
    python = stack_python(session)
    install_extra(session, python, "docs")
    session.run(str(Path(python).parent / "sphinx-build"), "-W", "--keep-going", "-b", "html", *session.posargs,
                "docs", str(Path("docs") / "_build" / "html"), external=True)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff (style and errors), mypy (the typed backend registry and the core) and import-linter (the
    import layers of pyproject.toml: no module imports from a layer above its own)."""
    python = stack_python(session)
    session.run(python, "-m", "ruff", "check", "harness", "models", "tests", "examples", "noxfile.py", external=True)
    session.run(python, "-m", "mypy", external=True)
    session.run(str(Path(python).parent / "lint-imports"), external=True)

