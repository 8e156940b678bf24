"""Direct tests of the PyMC-family backends' phase clocks (pymc, nutpie, pymc-numpyro, pymc-blackjax)."""

import importlib
import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest

from harness.backends import nutpie as nutpie_backend
from harness.backends import pymc as pymc_backend
from harness.catalogue import get_model, model_names
from harness.settings import SamplerSettings

SETTINGS = SamplerSettings(chains=2, warmup=200, draws=100)
MODULES = {
    "pymc": ("harness.backends.pymc", ("pymc",)),
    "nutpie": ("harness.backends.nutpie", ("pymc", "nutpie", "numba")),
    "pymc-numpyro": ("harness.backends.pymc_numpyro", ("pymc", "numpyro", "jax")),
    "pymc-blackjax": ("harness.backends.pymc_blackjax", ("pymc", "blackjax", "jax")),
}


def module_or_skip(name):
    path, requires = MODULES[name]
    missing = [m for m in requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"not installed: {missing}")
    return importlib.import_module(path)


@pytest.mark.parametrize("name", list(MODULES))
def test_declarations(name):
    module = importlib.import_module(MODULES[name][0])
    caps = module.CAPABILITIES
    assert caps.name == name and caps.family == "pymc"
    assert caps.devices == ("cpu",) and caps.sbc_replicates > 0
    assert set(caps.packages) >= {"pymc", "pytensor"}


def test_phase_clock_marks_each_chain():
    """The pm.sample callback clock: one (start, tuning end, end) mark per chain, in order."""
    clock = pymc_backend._PhaseClock(tune=3, draws=2)
    for _chain in range(2):
        for i in range(5):
            clock(None, SimpleNamespace(draw_idx=i))
    assert len(clock.marks) == 2
    for start, mid, end in clock.marks:
        assert start <= mid <= end
    assert clock.marks[1][0] == clock.marks[0][2]  # the second chain starts when the first ends


@pytest.mark.parametrize("name", list(MODULES))
def test_phase_split_on_a_real_run(name):
    """Warm-up and sampling are both timed, compile stays out of them, and the record names the sampler.

    No timing comparison here (speed belongs in benchmarks): that each phase's clock covers its own
    program is checked deterministically by injecting sleeps (tests/backends/test_jax_family.py).
    """
    backend = module_or_skip(name)
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    short, long = SETTINGS, SamplerSettings(chains=2, warmup=200, draws=1000)
    fits = {}
    for settings in (short, long):
        compiled = backend.compile(spec, data, settings)
        fits[settings.draws] = backend.sample(compiled, data, settings, 1)
    for fit in fits.values():
        assert fit.warmup_s > 0 and fit.sampling_s > 0
        if name != "pymc":  # pm.sample compiles inside the call; the others have compiled already
            assert fit.extra_compile_s == 0.0
        assert fit.info["sampler"] in ("pymc", "nutpie", "numpyro-nuts", "blackjax-nuts")
    assert fits[1000].n_steps.shape == (2, 1000) and fits[100].n_steps.shape == (2, 100)


def test_pymc_names_its_sampler():
    """PyMC 6 defaults to nutpie when installed: the pymc backend must still run PyMC's NUTS."""
    backend = module_or_skip("pymc")
    spec = get_model("normal_mean")
    data = spec.data()
    compiled = backend.compile(spec, data, SETTINGS)
    fit = backend.sample(compiled, data, SETTINGS, 2)
    assert compiled.info["sampler"] == fit.info["sampler"] == "pymc"
    assert fit.n_steps.shape == (SETTINGS.chains, SETTINGS.draws)


def test_nutpie_event_time_interpolates_in_steps():
    """A chain with 2 steps per draw, stamped at draws 0, 2, 6: draw 4 finished halfway through."""
    stamps = np.array([0.0, 1.0, 3.0])
    finished = np.array([0, 2, 6])
    cum = np.arange(7) * 2
    assert nutpie_backend._event_time(stamps, finished, cum, 0) == 0.0
    assert nutpie_backend._event_time(stamps, finished, cum, 4) == pytest.approx(2.0)
    assert nutpie_backend._event_time(stamps, finished, cum, 6) == pytest.approx(3.0)


def test_nutpie_warmup_share_from_progress_and_from_steps():
    """Two chains, one after another; each spends 1 s in warm-up (2 draws) and 3 s sampling (2 draws)."""
    log = nutpie_backend._ProgressLog(0.0, 2)
    for t, done in [(1.0, [2, 0]), (4.0, [4, 0]), (5.0, [4, 2]), (8.0, [4, 4])]:
        log.stamps.append(t)
        log.finished.append(done)
    steps = np.array([[1, 1, 3, 3], [1, 1, 3, 3]])
    share, how = nutpie_backend._warmup_share(log, steps, tune=2)
    assert how == "progress" and share == pytest.approx(0.25)
    share, how = nutpie_backend._warmup_share(None, steps, tune=2)
    assert how == "leapfrog_share" and share == pytest.approx(0.25)


@pytest.mark.parametrize("model", model_names())
def test_catalogue_models_hold_their_data_in_containers(model):
    """The catalogue contract (models/README.md, rule 7): every observed entry, and every other array the
    model reads, is a ``pm.Data`` container named ``<key>_data`` holding that entry, so one compiled
    model serves every simulated data set (SBC)."""
    module_or_skip("pymc")
    from harness.backends import _pymc

    spec = get_model(model)
    data = spec.data()
    built = _pymc.build(spec, data)
    containers = {v.name: v for v in built.data_vars}
    for key in spec.observed:
        assert key + _pymc.DATA_SUFFIX in containers, f"{model}: observed entry {key!r} is not a pm.Data container"
    for name, container in containers.items():
        key = name.removesuffix(_pymc.DATA_SUFFIX)
        assert name.endswith(_pymc.DATA_SUFFIX) and key in data, f"{model}: container {name!r} names no data entry"
        np.testing.assert_array_equal(container.get_value(), data[key])


def test_data_updates_refuse_what_a_compiled_model_cannot_take():
    """New values for the containers; None for another shape or a changed entry held as a constant."""
    module_or_skip("pymc")
    from harness.backends import _pymc

    spec = get_model("two_groups_pooled")
    data = spec.data()
    model = _pymc.build(spec, data)
    new = {**data, "x": data["x"] + 1.0}
    assert set(_pymc.data_updates(model, data, new)) == {"x_data"}
    assert _pymc.data_updates(model, data, {**data, "x": data["x"][:-1]}) is None  # other shape
    assert _pymc.data_updates(model, data, {**data, "group": 1 - data["group"]}) is None  # not read: a constant


@pytest.mark.parametrize("name", list(MODULES))
def test_new_shape_rebuilds(name):
    """Data of another shape cannot use the compiled model: it is rebuilt, and the time reported."""
    backend = module_or_skip(name)
    spec = get_model("normal_mean")
    data = spec.data()
    compiled = backend.compile(spec, data, SETTINGS)
    shorter = {**data, "x": data["x"][:-5] + 1.0, "K": data["K"] - 5}
    fit = backend.sample(compiled, shorter, SETTINGS, 3)
    assert fit.info["recompiled_for_data"] and fit.extra_compile_s > 0
    assert abs(fit.draws["mu"].mean() - shorter["x"].mean()) < 0.5
