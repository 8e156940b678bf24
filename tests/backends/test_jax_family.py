"""The JAX backends (NumPyro, BlackJAX): shared helpers, protocol hooks and BlackJAX's phase split."""

import time

import numpy as np
import pytest

from harness.backends import _jax
from harness.backends import blackjax as blackjax_backend
from harness.backends import numpyro as numpyro_backend
from harness.backends.base import SupportsBatch
from harness.catalogue import get_model
from harness.settings import SamplerSettings

JAX_BACKENDS = [numpyro_backend, blackjax_backend]
SETTINGS = SamplerSettings(chains=2, warmup=100, draws=50)
_compiled: dict = {}


def blackjax_compiled(chains: int = 2):
    """(spec, data, settings, Compiled) of eight_schools_noncentered, compiled once per chain count."""
    for module in ("jax", "numpyro", "blackjax"):
        pytest.importorskip(module)
    if chains not in _compiled:
        spec = get_model("eight_schools_noncentered")
        settings = SamplerSettings(chains=chains, warmup=SETTINGS.warmup, draws=SETTINGS.draws)
        _compiled[chains] = (spec, spec.data(), settings, blackjax_backend.compile(spec, spec.data(), settings))
    return _compiled[chains]


def test_worker_env_caps_xla_to_one_thread_on_cpu(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x intra_op_parallelism_threads=8")
    env = _jax.worker_env(1, "cpu")
    flags = env["XLA_FLAGS"].split()
    assert "--xla_cpu_multi_thread_eigen=false" in flags and "intra_op_parallelism_threads=1" in flags
    assert "--xla_dump_to=/tmp/x" in flags and "intra_op_parallelism_threads=8" not in flags
    assert env["JAX_CPU_ENABLE_ASYNC_DISPATCH"] == "false"
    assert env["JAX_PLATFORMS"] == "cpu" and env["CUDA_VISIBLE_DEVICES"] == ""


def test_worker_env_on_gpu_leaves_devices_visible(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    env = _jax.worker_env(4, "gpu")
    assert env["XLA_FLAGS"] == "" and env["JAX_PLATFORMS"] == ""
    assert "CUDA_VISIBLE_DEVICES" not in env
    assert all(isinstance(v, str) for v in env.values())


@pytest.mark.parametrize("module", JAX_BACKENDS, ids=lambda m: m.CAPABILITIES.name)
def test_jax_backends_share_the_hooks_and_declare_the_protocol(module):
    assert module.worker_env is _jax.worker_env
    assert module.peak_device_memory_mb is _jax.peak_device_memory_mb
    assert module.gpu_available is _jax.gpu_available
    caps = module.CAPABILITIES
    assert caps.family == "numpyro"
    assert {"jax", "jaxlib"} <= set(caps.packages) and caps.sbc_replicates == 200
    assert caps.vectorized_chains is True and isinstance(module, SupportsBatch)


def test_peak_device_memory_is_none_on_cpu():
    pytest.importorskip("jax")
    ok, _ = _jax.gpu_available()
    peak = _jax.peak_device_memory_mb()
    if ok:
        assert peak is None or peak >= 0
    else:
        assert peak is None


def test_chain_keys_are_per_chain_and_reproducible():
    pytest.importorskip("jax")
    _jax.configure()
    keys = np.asarray(_jax.chain_keys(3, 64))
    assert keys.shape == (64, 2) and keys.dtype == np.uint32
    assert len({tuple(k) for k in keys}) == 64
    np.testing.assert_array_equal(keys, np.asarray(_jax.chain_keys(3, 64)))


def test_blackjax_compile_is_ahead_of_time_and_records_the_sampler():
    import jax

    compiled = blackjax_compiled()[3]
    programs = compiled.handle["programs"]
    assert isinstance(programs["warmup"], jax.stages.Compiled)
    assert isinstance(programs["sampling"], jax.stages.Compiled)
    assert compiled.compile_s > 0
    assert compiled.info["sampler"] == "blackjax-nuts" and compiled.info["chain_method"] == "vectorized"
    assert compiled.info["dtype"] == "float64" and compiled.info["platform"] == "cpu"


def test_blackjax_phases_time_their_own_program(monkeypatch):
    """A delay put into the warm-up program lands in warmup_s only, one in sampling in sampling_s only."""
    _, data, settings, compiled = blackjax_compiled()
    programs = dict(compiled.handle["programs"])

    def slowed(program, delay):
        def run(*args):
            time.sleep(delay)
            return program(*args)
        return run

    handle = {**compiled.handle, "programs": {"warmup": slowed(programs["warmup"], 0.5), "sampling": programs["sampling"]}}
    fit = blackjax_backend.sample(type(compiled)(handle, compiled.compile_s), data, settings, 1)
    assert fit.warmup_s >= 0.5 > fit.sampling_s
    handle["programs"] = {"warmup": programs["warmup"], "sampling": slowed(programs["sampling"], 0.5)}
    fit = blackjax_backend.sample(type(compiled)(handle, compiled.compile_s), data, settings, 1)
    assert fit.sampling_s >= 0.5 > fit.warmup_s


def test_blackjax_fit_records_steps_and_warmup_gradients():
    _, data, settings, compiled = blackjax_compiled()
    fit = blackjax_backend.sample(compiled, data, settings, 5)
    assert fit.info["sampler"] == "blackjax-nuts" and fit.extra_compile_s == 0
    assert fit.n_steps.shape == fit.diverging.shape == (settings.chains, settings.draws)
    assert fit.n_steps.dtype == np.int64 and fit.diverging.dtype == bool
    assert fit.n_grad_warmup >= settings.chains * settings.warmup
    assert all(v.dtype == np.float64 for v in fit.draws.values())


def test_blackjax_runs_one_chain():
    _, data, settings, compiled = blackjax_compiled(chains=1)
    fit = blackjax_backend.sample(compiled, data, settings, 2)
    assert fit.draws["theta_trans"].shape == (1, settings.draws, 8)


def test_blackjax_sample_batch_fits_each_data_set():
    _, data, settings, compiled = blackjax_compiled()
    other = {**data, "y": data["y"] + 10.0}
    fits = blackjax_backend.sample_batch(compiled, [data, other], settings, [1, 2])
    assert len(fits) == 2 and fits[0].extra_compile_s > 0 and fits[1].extra_compile_s == 0
    assert fits[0].draws["mu"].shape == (settings.chains, settings.draws)
    assert fits[1].draws["mu"].mean() > fits[0].draws["mu"].mean()


def test_blackjax_gradient_is_minus_numpyro_potential():
    import jax

    spec, data, _, _ = blackjax_compiled()
    point = spec.sample_prior(np.random.default_rng(0), data)
    value, grad = blackjax_backend.gradient_fn(spec, data, point)()
    potential, z = numpyro_backend.potential_at(spec, data, point)
    np.testing.assert_allclose(float(value), -float(potential(z)))
    expected = jax.grad(potential)(z)
    for name in z:
        np.testing.assert_allclose(np.asarray(grad[name]), -np.asarray(expected[name]))


@pytest.mark.parametrize("module", JAX_BACKENDS, ids=lambda m: m.CAPABILITIES.name)
def test_compile_batch_compiles_only_the_batch_programs(module):
    """SBC's compile: the vmapped programs only. Batches fit as after a full compile; ``sample``
    compiles its own programs on first use (reported as extra compile) and fits as after a full compile."""
    for name in ("jax", "numpyro", "blackjax"):
        pytest.importorskip(name)
    spec = get_model("normal_mean")
    data = spec.data()
    other = {**data, "x": data["x"] + 1.0}
    settings = SamplerSettings(chains=1, warmup=60, draws=40)
    batched = module.compile_batch(spec, data, settings, 2)
    assert batched.handle["programs"] is None and set(batched.handle["batched"]) == {2}
    full = module.compile(spec, data, settings)
    fits = module.sample_batch(batched, [data, other], settings, [1, 2])
    assert fits[0].extra_compile_s == 0.0
    expected = module.sample_batch(full, [data, other], settings, [1, 2])
    for fit, want in zip(fits, expected):
        np.testing.assert_array_equal(fit.draws["mu"], want.draws["mu"])
    single = module.sample(batched, other, settings, 3)
    assert single.extra_compile_s > 0 and batched.handle["programs"] is not None
    np.testing.assert_array_equal(single.draws["mu"], module.sample(full, other, settings, 3).draws["mu"])
