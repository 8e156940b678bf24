"""PyMC models on a JAX sampler: what ``pymc-numpyro`` and ``pymc-blackjax`` share.

The PyMC model is jaxified (``_pymc.JaxModel``: the log density and the constraining map as JAX
functions of the value variables *and* the ``pm.Data`` containers), each backend supplies its sampler's
programs (vectorised over chains), and the sampler backend's public builders (``build_programs``,
``run_programs``, ``to_fit`` of ``harness.backends.numpyro`` / ``harness.backends.blackjax``) compile
and run them, exactly as for a NumPyro model. So the two backends differ only in their programs.

Compiled once per data shape: the containers are arguments of the programs, so a new data set of the
same shapes (SBC) runs the same programs; other shapes rebuild and recompile (``extra_compile_s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.backends import _jax, _pymc
from harness.backends.base import Compiled, Fit, chain_seeds
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

Programs = Callable[[_pymc.JaxModel, SamplerSettings], tuple]


def args_for(jm: _pymc.JaxModel, data: Data, seed: int, chains: int):
    """(positions, data) for the programs: PyMC's jittered initial points and the containers' values."""
    import jax

    return jax.device_put((jm.initial_positions(chain_seeds(seed, chains)), jm.data_of(data)))


def prepare(sampler, programs: Programs, spec: ModelSpec, data: Data, settings: SamplerSettings) -> dict:
    """Build, jaxify and AOT-compile for data of this shape: {"jm", "programs", "data"}."""
    jm = _pymc.JaxModel(_pymc.build(spec, data), tuple(p.name for p in spec.params))
    compiled = sampler.build_programs(programs(jm, settings), args_for(jm, data, 0, settings.chains),
                                      _jax.chain_keys(0, settings.chains), settings)
    return {"jm": jm, "programs": compiled, "data": data}


def compile(sampler, programs: Programs, spec: ModelSpec, data: Data, settings: SamplerSettings,
            info: dict) -> Compiled:
    """The backend's ``compile``: build the PyMC model, jaxify it, AOT-compile the sampler's programs."""
    _jax.configure()
    start = time.perf_counter()
    entries_before = _jax.cache_entries()
    handle = {"spec": spec, "data": data, **prepare(sampler, programs, spec, data, settings)}
    info = {**info, "dtype": "float64", "jit": True, "platform": _jax.jax_device().platform}
    compile_s = time.perf_counter() - start
    return Compiled(handle, compile_s, cache_hit=_jax.cache_entries() == entries_before, info=info)


def sample(sampler, programs: Programs, compiled: Compiled, data: Data, settings: SamplerSettings, seed: int,
           name: str) -> Fit:
    """The backend's ``sample``: one vectorised multi-chain run, each phase synchronised before its clock."""
    extra_compile_s = _pymc.rebuild_for(compiled, data,
                                        lambda: prepare(sampler, programs, compiled.handle["spec"], data, settings))
    handle = compiled.handle
    keys = _jax.chain_keys(seed, settings.chains)
    args = args_for(handle["jm"], data, seed, settings.chains)
    fit = sampler.to_fit(*sampler.run_programs(handle["programs"], args, keys, settings, draw_axis=1))
    fit.extra_compile_s = extra_compile_s
    fit.info = {"sampler": name, "recompiled_for_data": extra_compile_s > 0}
    return fit
