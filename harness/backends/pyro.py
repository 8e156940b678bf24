"""Pyro NUTS with its PyTorch JIT (``jit_compile=True``), chains one after another, float64.

Pyro's ``MCMC`` wrapper runs the kernel's public ``setup``/``sample`` loop; we run that loop
ourselves so warm-up and sampling can be timed apart. Compile = ``kernel.setup`` (model tracing,
initialisation and the TorchScript trace of the potential). Gradient evaluations are counted by
wrapping the kernel's potential function. Pyro (eager) was measured at ~90 s for Eight Schools
4x1000/1000 on 2 cores; the JIT gave identical draws 1.5-1.8x faster, so it is on by default.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from harness.backends.base import Capabilities, Compiled, Fit, chain_seeds, stack_chains
from harness.catalogue import implementation
from harness.settings import SamplerSettings
from harness.spec import Data, ModelSpec

CAPABILITIES = Capabilities(
    name="pyro", family="pyro", requires=("pyro", "torch"), packages=("pyro-ppl", "torch"), extra="pyro",
    devices=("cpu", "gpu"),
    sbc_replicates=20,  # 1-10 s a replicate on one core (docs/sbc.md "Cost per backend"); 20 can pass weakly
)
JIT = os.environ.get("PPL_HARNESS_PYRO_JIT", "1") != "0"


def worker_env(cores: int, device: str) -> dict[str, str]:
    """torch's intra-op pool is set from this in ``sample`` (torch has no environment variable for it)."""
    return {"PPL_HARNESS_TORCH_THREADS": str(cores)}


def versions() -> dict[str, str]:
    import pyro
    import torch

    return {"pyro-ppl": pyro.__version__, "torch": torch.__version__}


def gpu_available() -> tuple[bool, str]:
    import torch

    if torch.cuda.is_available():
        return True, f"torch sees {torch.cuda.get_device_name(0)}"
    return False, "torch.cuda.is_available() is False"


def peak_device_memory_mb() -> float | None:
    """Peak CUDA memory torch allocated in this process so far (MiB), or None when CUDA was not used."""
    import sys

    torch = sys.modules.get("torch")  # never import torch (or initialise CUDA) just to ask
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def _device(settings) -> str:
    return "cuda" if settings.device == "gpu" else "cpu"


def _use_device(settings) -> None:
    """Float64, and on the GPU CUDA as torch's default device, so model constants are created where the
    data are. On the CPU no default device is set: one installs a torch function mode that intercepts
    every torch call, which cost ~45% of a Pyro fit's time (eight_schools_noncentered, profiled)."""
    import torch

    torch.set_default_dtype(torch.float64)
    torch.set_default_device("cuda" if settings.device == "gpu" else None)


def to_torch(data: Data, device: str = "cpu") -> dict:
    """numpy float arrays -> float64 tensors, int arrays -> int64 tensors; scalars unchanged."""
    import torch

    out = {}
    for k, v in data.items():
        if isinstance(v, np.ndarray):
            dtype = torch.float64 if np.issubdtype(v.dtype, np.floating) else torch.int64
            out[k] = torch.as_tensor(v, dtype=dtype, device=device)
        else:
            out[k] = v
    return out


def init_uniform(site=None):
    """Pyro's ``init_to_uniform`` (U(-2, 2) on the unconstrained scale, what Stan does), also for sites
    that cannot be sampled (``ImproperUniform``: flat priors), which start from a feasible value instead
    of a prior draw before the same uniform jitter. Sites that can be sampled consume the random
    stream exactly as ``init_to_uniform`` does."""
    import torch
    from torch.distributions import biject_to

    if site is None:
        return init_uniform
    fn = site["fn"]
    transform = biject_to(fn.support)
    try:
        value = fn.sample().detach()
    except NotImplementedError:
        value = transform(torch.zeros(fn.shape()))
    value = transform(torch.rand_like(transform.inv(value)) * 4.0 - 2.0)
    value._pyro_custom_init = False
    return value


def max_plate_nesting(model, args) -> int:
    """What Pyro's HMC guesses by running the model once (consuming the random stream as it does),
    also for models with sites that cannot be sampled (``ImproperUniform``), run from ``init_uniform``."""
    from pyro import poutine
    from pyro.infer.autoguide.initialization import InitMessenger

    try:
        with poutine.block():
            trace = poutine.trace(model).get_trace(*args)
    except NotImplementedError:
        with poutine.block():
            trace = poutine.trace(InitMessenger(init_uniform)(model)).get_trace(*args)
    dims = [frame.dim for site in trace.nodes.values() if site["type"] == "sample"
            for frame in site["cond_indep_stack"] if frame.vectorized]
    return -min(dims) if dims else 0


def _make_kernel(model, settings, plates: int):
    from pyro.infer import NUTS

    return NUTS(
        model,
        max_plate_nesting=plates,
        target_accept_prob=settings.target_accept,
        max_tree_depth=settings.max_treedepth,
        jit_compile=JIT,
        ignore_jit_warnings=True,
        full_mass=False,
        init_strategy=init_uniform,
    )


def compile(spec: ModelSpec, data: Data, settings: SamplerSettings) -> Compiled:
    """Nothing is built ahead of a chain in Pyro; the kernel set-up of each chain is its compile."""
    import torch

    torch.set_num_threads(int(os.environ.get("PPL_HARNESS_TORCH_THREADS", settings.cores)))
    _use_device(settings)
    model = implementation(spec.name, CAPABILITIES.family).model
    info = {"chain_method": "sequential", "jit": JIT, "dtype": "float64", "device": _device(settings)}
    return Compiled({"spec": spec, "model": model}, 0.0, cache_hit=False if JIT else None, info=info)


class _CountingPotential:
    """Wraps a potential function and counts its calls (one per gradient evaluation)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def _run_chain(model, tdata, settings, seed: int):
    """One chain: returns (constrained draws {name: (draw, *shape)}, diverging, steps, times, grads)."""
    import pyro
    import torch

    pyro.set_rng_seed(seed)
    kernel = _make_kernel(model, settings, max_plate_nesting(model, (tdata,)))
    on_gpu = any(getattr(v, "is_cuda", False) for v in tdata.values())
    sync = torch.cuda.synchronize if on_gpu else (lambda: None)  # clocks read after GPU work ends
    t0 = time.perf_counter()
    kernel.setup(settings.warmup, tdata)
    counter = _CountingPotential(kernel.potential_fn)
    kernel.potential_fn = counter
    params = kernel.initial_params
    sync()
    t1 = time.perf_counter()
    for _ in range(settings.warmup):
        params = kernel.sample(params)
    grads_warmup = counter.calls
    sync()
    t2 = time.perf_counter()
    kept, steps = [], []
    for _ in range(settings.draws):
        before = counter.calls
        params = kernel.sample(params)
        steps.append(counter.calls - before)
        kept.append({k: v.detach().clone() for k, v in params.items()})
    sync()
    t3 = time.perf_counter()
    diverging = np.zeros(settings.draws, dtype=bool)
    diverging[np.asarray(kernel._divergences, dtype=int)] = True  # indices of kept iterations
    transforms = kernel.transforms
    with torch.no_grad():
        draws = {k: torch.stack([transforms[k].inv(d[k]) for d in kept]).cpu().numpy() for k in kept[0]}
    kernel.cleanup()
    return draws, diverging, np.array(steps), (t1 - t0, t2 - t1, t3 - t2), grads_warmup


def sample(compiled: Compiled, data: Data, settings: SamplerSettings, seed: int) -> Fit:
    _use_device(settings)
    spec, model = compiled.handle["spec"], compiled.handle["model"]
    tdata = to_torch(data, _device(settings))
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for chain_seed in chain_seeds(seed, settings.chains):
            results.append(_run_chain(model, tdata, settings, chain_seed))
    names = [p.name for p in spec.params]
    draws = stack_chains([{k: r[0][k] for k in names} for r in results])
    return Fit(
        draws=draws,
        diverging=np.stack([r[1] for r in results]),
        n_steps=np.stack([r[2] for r in results]),
        warmup_s=sum(r[3][1] for r in results),
        sampling_s=sum(r[3][2] for r in results),
        extra_compile_s=sum(r[3][0] for r in results),
        n_grad_warmup=sum(r[4] for r in results),
    )


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian) from a conditioned trace; -inf at a point where a
    latent site's value lies outside its distribution's support (``ImproperUniform`` does not check)."""
    import pyro
    import torch

    torch.set_default_dtype(torch.float64)
    model = implementation(spec.name, CAPABILITIES.family).model
    tdata = to_torch(data)
    out = []
    for point in points:
        params = {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in point.items()}
        trace = pyro.poutine.trace(pyro.poutine.condition(model, data=params)).get_trace(tdata)
        outside = any(not bool(torch.all(site["fn"].support.check(site["value"])))  # type: ignore[attr-defined]
                      for name, site in trace.nodes.items()
                      if site["type"] == "sample" and name in params)
        out.append(-np.inf if outside else float(trace.log_prob_sum()))
    return np.array(out)


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: the potential NUTS evaluates (unconstrained, JIT as configured) and its gradient."""
    import torch
    from pyro.infer.mcmc.util import initialize_model
    from pyro.ops.integrator import potential_grad

    torch.set_default_dtype(torch.float64)
    model = implementation(spec.name, CAPABILITIES.family).model
    tdata = to_torch(data)
    _, potential_fn, transforms, _ = initialize_model(model, model_args=(tdata,), jit_compile=JIT, skip_jit_warnings=True,
                                                      init_strategy=init_uniform,
                                                      max_plate_nesting=max_plate_nesting(model, (tdata,)))
    z = {k: transforms[k](torch.as_tensor(np.asarray(v, dtype=np.float64))) for k, v in point.items()}
    potential_grad(potential_fn, z)  # first call traces the JIT

    def evaluate():
        return potential_grad(potential_fn, z)

    return evaluate


def prior_draws(spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of the free parameters from Pyro's own prior: {name: (n, *shape)}."""
    import pyro
    import torch
    from pyro.infer import Predictive

    torch.set_default_dtype(torch.float64)
    pyro.set_rng_seed(seed)
    names = [p.name for p in spec.params]
    model = implementation(spec.name, CAPABILITIES.family).model
    draws = Predictive(model, num_samples=n, return_sites=names)(to_torch(data))
    return {k: draws[k].detach().cpu().numpy().astype(np.float64).reshape((n,) + tuple(
        p.resolve_shape(data))) for p in spec.params for k in [p.name]}


class PyroPotential:
    """The sampler's potential of the Pyro model (equivalence hook, see ``harness.equivalence``).

    ``pyro.infer.mcmc.util.initialize_model`` gives the potential NUTS evaluates (minus the log density
    on the unconstrained scale, with the log-Jacobian; evaluated eagerly here, the JIT traces the same
    function) and the transforms (constrained -> unconstrained) of every latent site, fixed at the
    initial trace as Pyro's NUTS fixes them. Layout: the free parameters in ``spec.params`` order,
    each its unconstrained value raveled; gradients by ``torch.autograd``, float64.
    """

    own_transform = True

    def __init__(self, spec: ModelSpec, data: Data):
        import torch
        from pyro.infer.mcmc.util import initialize_model

        torch.set_default_dtype(torch.float64)
        model = implementation(spec.name, CAPABILITIES.family).model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = (to_torch(data),)
            init, self._potential, self._transforms, _ = initialize_model(
                model, model_args=args, init_strategy=init_uniform, max_plate_nesting=max_plate_nesting(model, args))
        self.names = tuple(p.name for p in spec.params)
        if set(init) != set(self.names):
            raise ValueError(f"model {spec.name!r}: Pyro latent sites {sorted(init)} differ from the "
                             f"declaration's {sorted(self.names)}")
        self.shapes = {n: tuple(init[n].shape) for n in self.names}

    def to_unconstrained(self, point: dict) -> np.ndarray:
        import torch

        with torch.no_grad():
            parts = [self._transforms[n](torch.as_tensor(np.asarray(point[n], dtype=np.float64))) for n in self.names]
        return np.concatenate([np.ravel(p.cpu().numpy()) for p in parts]).astype(np.float64)

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        import torch

        z, i = {}, 0
        for n in self.names:
            shape = self.shapes[n]
            k = int(np.prod(shape, dtype=int))
            z[n] = torch.tensor(np.asarray(u[i:i + k], dtype=np.float64).reshape(shape), requires_grad=True)
            i += k
        value = self._potential(z)
        grads = torch.autograd.grad(value, [z[n] for n in self.names])
        return float(value.detach()), np.concatenate([np.ravel(g.detach().cpu().numpy()) for g in grads])


def potential(spec: ModelSpec, data: Data) -> PyroPotential:
    """Equivalence hook (see ``harness.equivalence``): the Pyro model's potential for ``data``."""
    return PyroPotential(spec, data)
