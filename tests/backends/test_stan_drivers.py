"""The two Stan backends over the same .stan files: ``stan`` (PyStan/httpstan) and ``cmdstanpy`` (CmdStan).

Every test that runs Stan runs on both; a backend is skipped only where it is unavailable (no
pystan, no cmdstanpy, or no CmdStan install).
"""

import fcntl
import importlib
import importlib.util
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from harness.backends import _stan
from harness.catalogue import get_model
from harness.settings import SamplerSettings

MODULES = {"stan": "harness.backends.stan", "cmdstanpy": "harness.backends.stan_cmdstanpy"}
DRIVERS = list(MODULES)
SETTINGS = SamplerSettings(chains=2, warmup=100, draws=100)

CMDSTAN_CSV_TAIL = """
#
#  Elapsed Time: 0.012 seconds (Warm-up)
#                0.0345 seconds (Sampling)
#                0.0465 seconds (Total)
#
"""
HTTPSTAN_LOGGER_TEXT = " Elapsed Time: 0.05 seconds (Warm-up)                 0.125 seconds (Sampling)   0.175 seconds (Total)"


def module_of(name):
    return importlib.import_module(MODULES[name])


def backend_or_skip(name):
    module = module_of(name)
    missing = [m for m in module.CAPABILITIES.requires if importlib.util.find_spec(m) is None]
    why = f"not installed: {', '.join(missing)}" if missing else module.unavailable_reason()
    if why:
        pytest.skip(f"{name} unavailable here: {why}")
    return module


def process_state():
    return {
        "cwd": os.getcwd(),
        "TMPDIR": os.environ.get("TMPDIR"),
        "CMDSTAN": os.environ.get("CMDSTAN"),
        "tempdir": tempfile.gettempdir(),
    }


def httpstan_sockets():
    return set(Path(tempfile.gettempdir()).glob("httpstan_*.sock"))


def test_elapsed_time_is_read_from_both_drivers_outputs():
    assert _stan.elapsed_seconds(CMDSTAN_CSV_TAIL) == (0.012, 0.0345)
    assert _stan.elapsed_seconds(HTTPSTAN_LOGGER_TEXT) == (0.05, 0.125)
    with pytest.raises(RuntimeError, match="Elapsed Time"):
        _stan.elapsed_seconds("no timing here")


@pytest.mark.parametrize("name", DRIVERS)
def test_module_declares_the_protocol(name):
    module = module_of(name)
    caps = module.CAPABILITIES
    assert caps.name == name and caps.family == "stan"
    assert caps.requires == {"stan": ("stan", "httpstan"), "cmdstanpy": ("cmdstanpy",)}[name]
    assert caps.packages == {"stan": ("pystan", "httpstan"), "cmdstanpy": ("cmdstanpy",)}[name]
    assert caps.devices == ("cpu",) and caps.sbc_replicates == 100
    assert module.worker_env(3, "cpu") == {"STAN_NUM_THREADS": "3"}
    assert isinstance(module.describe(), str)
    assert not hasattr(module, "driver"), "drivers are separate backends now"


@pytest.mark.parametrize("name", DRIVERS)
def test_fits_without_side_effects_on_the_process(name, tmp_path, monkeypatch):
    """Compile and sample; the cwd (a fresh folder here), TMPDIR, CMDSTAN and the temp dir are left as found."""
    backend = backend_or_skip(name)
    monkeypatch.chdir(tmp_path)
    before, sockets = process_state(), httpstan_sockets()
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    compiled = backend.compile(spec, data, SETTINGS)
    assert process_state() == before
    assert compiled.info["stan_driver"] == {"stan": "pystan", "cmdstanpy": "cmdstanpy"}[name]
    fit = backend.sample(compiled, data, SETTINGS, 3)
    assert process_state() == before
    assert list(tmp_path.iterdir()) == [], "nothing is written to the working directory"
    assert httpstan_sockets() <= sockets, "httpstan's socket files are removed"
    assert fit.draws["theta_trans"].shape == (2, 100, 8)
    assert fit.diverging.shape == fit.n_steps.shape == (2, 100)
    assert fit.warmup_s > 0 and fit.sampling_s > 0  # Stan's own Elapsed Time, read from this driver's output
    assert fit.info["request_overhead_s"] >= 0
    again = backend.compile(spec, data, SETTINGS)
    assert again.cache_hit is True
    assert backend.versions()


@pytest.mark.parametrize("name", DRIVERS)
def test_log_density_agrees_with_the_reference_density(name):
    """To 1e-6: CmdStan's default 6 significant digits would fail this (-3.49546 vs -3.495443)."""
    backend = backend_or_skip(name)
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    before = process_state()
    points = [spec.sample_prior(np.random.default_rng(i), data) for i in range(4)]
    lp = backend.log_density(spec, data, points)
    ref = np.array([spec.log_density(p, data) for p in points])
    np.testing.assert_allclose(lp - lp[0], ref - ref[0], rtol=1e-6, atol=1e-6)
    assert process_state() == before


@pytest.mark.parametrize("name", DRIVERS)
def test_draws_are_full_precision(name):
    """No rounding of draws to a few significant digits (CmdStan CSV default)."""
    backend = backend_or_skip(name)
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    settings = SamplerSettings(chains=1, warmup=50, draws=50)
    fit = backend.sample(backend.compile(spec, data, settings), data, settings, 11)
    mu = fit.draws["mu"].ravel()
    assert np.mean([abs(float(f"{x:.6g}") - x) > 0 for x in mu]) > 0.9


# ---------------------------------------------------------------- CmdStan discovery


def fake_cmdstan(path: Path, version: str, main_o: bool = True) -> Path:
    (path / "bin").mkdir(parents=True)
    (path / "makefile").write_text(f"CMDSTAN_VERSION := {version}\n")
    (path / "bin" / "stanc").write_text("#!/bin/sh\n")
    if main_o:
        (path / "src" / "cmdstan").mkdir(parents=True)
        (path / "src" / "cmdstan" / "main.o").write_text("")
    return path


def test_cmdstan_discovery_order(tmp_path, monkeypatch):
    c = importlib.import_module(MODULES["cmdstanpy"])
    home, cache = tmp_path / "home", tmp_path / "cache"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(cache))
    monkeypatch.delenv("CMDSTAN", raising=False)
    assert c.find_cmdstan() is None
    reason = c.unavailable_reason()
    assert "cmdstanpy.install_cmdstan" in reason and "nox -s cmdstan" in reason

    # 3. the harness cache's offline build, once its main.o exists (a build in progress is not usable)
    offline = fake_cmdstan(cache / "cmdstan" / "cmdstan-2.35.0", "2.35.0", main_o=False)
    assert c.find_cmdstan() is None
    (offline / "src" / "cmdstan").mkdir(parents=True)
    (offline / "src" / "cmdstan" / "main.o").write_text("")
    assert c.find_cmdstan() == offline.resolve()

    # 2. cmdstanpy's default ~/.cmdstan, newest release (2.36.0 after its release candidate)
    fake_cmdstan(home / ".cmdstan" / "cmdstan-2.34.1", "2.34.1", main_o=False)
    fake_cmdstan(home / ".cmdstan" / "cmdstan-2.36.0-rc1", "2.36.0-rc1", main_o=False)
    newest = fake_cmdstan(home / ".cmdstan" / "cmdstan-2.36.0", "2.36.0", main_o=False)
    (home / ".cmdstan" / "cmdstan-2.99.0").mkdir()  # no makefile: not an install
    assert c.find_cmdstan() == newest.resolve()

    # 1. $CMDSTAN, when it is a CmdStan directory; otherwise the search goes on (and says so when it fails)
    explicit = fake_cmdstan(tmp_path / "mine", "2.33.0", main_o=False)
    monkeypatch.setenv("CMDSTAN", str(explicit))
    assert c.find_cmdstan() == explicit.resolve()
    assert c.cmdstan_version(c.find_cmdstan()) == "2.33.0"
    monkeypatch.setenv("CMDSTAN", str(tmp_path / "nowhere"))
    assert c.find_cmdstan() == newest.resolve()
    assert os.environ["CMDSTAN"] == str(tmp_path / "nowhere"), "discovery does not touch the environment"


# ---------------------------------------------------------------- httpstan's caches (stan backend)


@pytest.fixture
def fake_httpstan_cache(tmp_path, monkeypatch):
    pytest.importorskip("httpstan")
    import httpstan.cache

    monkeypatch.setattr(httpstan.cache, "cache_directory", lambda: tmp_path / "httpstan")
    return tmp_path / "httpstan"


def test_httpstan_lock_is_keyed_to_httpstan_cache_not_harness_cache(fake_httpstan_cache, monkeypatch, tmp_path):
    s = importlib.import_module(MODULES["stan"])
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(tmp_path / "one"))
    first = s._lock_path("models/abc123")
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(tmp_path / "two"))
    assert s._lock_path("models/abc123") == first == fake_httpstan_cache / "models" / "abc123.lock"


def test_fit_cache_is_emptied_by_the_last_user_only(fake_httpstan_cache):
    s = importlib.import_module(MODULES["stan"])
    name = "models/abc123"
    fits = fake_httpstan_cache / "models" / "abc123" / "fits"
    fits.mkdir(parents=True)
    (fits / "f.jsonlines.gz").write_text("")
    lock = s._lock_path(name)
    with open(lock, "a") as other:  # another process sampling the model (flock is per open file)
        fcntl.flock(other, fcntl.LOCK_SH)
        with s._model_in_use(name):
            pass
        assert fits.exists()
        fcntl.flock(other, fcntl.LOCK_UN)
    with s._model_in_use(name):
        pass
    assert not fits.exists()


def test_build_waits_for_another_builder_and_retries_once(fake_httpstan_cache, monkeypatch):
    s = importlib.import_module(MODULES["stan"])
    name = "models/abc123"
    model_dir = fake_httpstan_cache / "models" / "abc123"
    calls = []

    def flaky_build(code):
        calls.append(code)
        if len(calls) == 1:
            raise RuntimeError("the other process removed the half-built directory")
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "stan_services_model_abc123.so").write_text("")

    monkeypatch.setattr(s, "_build_in_child", flaky_build)
    lock = s._lock_path(name)
    lock.parent.mkdir(parents=True, exist_ok=True)
    other = open(lock, "a")  # noqa: SIM115 - released by the thread below
    fcntl.flock(other, fcntl.LOCK_EX)  # another process is building

    def release():
        time.sleep(0.3)
        fcntl.flock(other, fcntl.LOCK_UN)
        other.close()

    threading.Thread(target=release).start()
    start = time.perf_counter()
    assert s._ensure_built("code", name) is True
    assert time.perf_counter() - start >= 0.25 and len(calls) == 2
    assert s._ensure_built("code", name) is False and len(calls) == 2  # built: no build, no lock wait
