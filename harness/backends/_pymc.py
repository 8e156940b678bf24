"""Code shared by the PyMC-family backends (pymc, nutpie, pymc-numpyro, pymc-blackjax).

All of them read ``models/<name>/pymc_model.py``, whose ``build(data)`` returns a ``pm.Model`` holding
every data array as ``pm.Data("<key>_data", ...)`` (the catalogue contract, ``models/README.md``), so a
model compiled once serves every data set of the same shapes: ``data_updates`` says which containers
take the new values (``pm.set_data``, nutpie's ``with_data``, or arguments of the JAX programs).
Log densities and prior draws come from that same PyMC model for every backend of the family. Importing this module links pytensor to a system BLAS (before pytensor is
imported); libraries themselves are imported inside the functions.
"""

from __future__ import annotations

import os
import time

import numpy as np

from harness.catalogue import implementation
from harness.spec import Data, ModelSpec

FAMILY = "pymc"


def _link_system_blas() -> None:
    """pip-installed pytensor finds no BLAS in system library dirs and falls back to slow loops.

    When the user has not configured pytensor, point it at a system OpenBLAS (Debian:
    libopenblas-dev) if one exists. Must run before pytensor is imported; recorded per run.
    """
    import ctypes.util

    if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", "") and ctypes.util.find_library("openblas"):
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, "blas__ldflags=-lopenblas"]))


_link_system_blas()


def versions(*packages: str) -> dict[str, str]:
    """{distribution: version} for pymc, pytensor and ``packages`` (distribution names)."""
    from importlib.metadata import version

    return {name: version(name) for name in ("pymc", "pytensor", *packages)}


def blas() -> str:
    """pytensor's BLAS link flags, as recorded in a result's backend info."""
    import pytensor

    return pytensor.config.blas__ldflags or "none (slow fallback)"


def build(spec: ModelSpec, data: Data):
    """The catalogue's ``pm.Model`` for ``data``."""
    return implementation(spec.name, FAMILY).build(data)


DATA_SUFFIX = "_data"  # the catalogue's pm.Data container of data entry ``key`` is named ``key + DATA_SUFFIX``


def data_updates(model, old: Data, new: Data) -> dict[str, np.ndarray] | None:
    """{pm.Data name: new value} that turn ``model`` (built for ``old``) into the model of ``new``.

    Every container of the model gets its entry of ``new``, cast to the container's dtype. None when
    the model cannot take ``new`` without a rebuild: the entries differ in names or shapes, or an entry
    that differs has no container (a Python int, or an array the model holds as a constant).
    """
    if old.keys() != new.keys():
        return None
    containers = {v.name: v for v in model.data_vars}
    updates = {}
    for key in new:
        a, b = np.asarray(old[key]), np.asarray(new[key])
        if a.shape != b.shape:
            return None
        container = containers.get(key + DATA_SUFFIX)
        if container is not None:
            updates[container.name] = b.astype(container.dtype, copy=False)
        elif not np.array_equal(a, b):
            return None
    return updates


class Unconstrainer:
    """Constrained {rv name: value} -> {value-variable name: unconstrained value} with PyMC's own
    transforms, compiled once: each free variable's ``transform.forward``, where the transform's
    arguments may be other free variables (a bound ``1 - alpha1``) or data containers."""

    def __init__(self, model):
        import pytensor
        from pytensor.graph.replace import clone_replace

        rvs = list(model.free_RVs)
        stand_ins = {rv: rv.type(name=f"{rv.name}__constrained") for rv in rvs}
        outputs = []
        for rv in rvs:
            transform = model.rvs_to_transforms.get(rv)
            x = stand_ins[rv]
            outputs.append(transform.forward(x, *rv.owner.inputs) if transform is not None else x)
        outputs = clone_replace(outputs, replace=stand_ins)
        self.rv_names = [rv.name for rv in rvs]
        self.value_names = [model.rvs_to_values[rv].name for rv in rvs]
        self._fn = pytensor.function(list(stand_ins.values()), outputs, on_unused_input="ignore")

    def __call__(self, point: dict) -> dict[str, np.ndarray]:
        values = self._fn(*[np.asarray(point[n], dtype=np.float64) for n in self.rv_names])
        return {v: np.asarray(x, dtype=np.float64) for v, x in zip(self.value_names, values)}


def unconstrained_point(model, point: dict) -> dict[str, np.ndarray]:
    """Constrained {rv name: value} -> {value-variable name: unconstrained value} (PyMC's transforms)."""
    return Unconstrainer(model)(point)


def log_density(spec: ModelSpec, data: Data, points: list[dict]) -> np.ndarray:
    """Joint log density (constrained, no Jacobian) via a transform-free copy of the model: (n_points,).

    -inf at a point that PyMC's own unconstraining maps cannot take (a non-finite unconstrained value):
    a support that PyMC expresses only through a transform (``ordered``) is refused like any other."""
    from pymc.model.transform.conditioning import remove_value_transforms

    model = build(spec, data)
    unconstrain = Unconstrainer(model)
    model.rvs_to_initial_values = {rv: None for rv in model.rvs_to_initial_values}  # initvals do not matter here
    logp = remove_value_transforms(model).compile_logp(jacobian=False)
    out = []
    for p in points:
        point = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
        with np.errstate(all="ignore"):
            inside = all(np.all(np.isfinite(u)) for u in unconstrain(point).values())
        out.append(float(logp(point)) if inside else -np.inf)
    return np.array(out)


def gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: PyMC's log density and gradient (unconstrained, flat) at ``point``."""
    model = build(spec, data)
    fn = model.logp_dlogp_function(ravel_inputs=True)
    fn.set_extra_values({})
    unconstrained = unconstrained_point(model, point)
    x = np.concatenate([np.ravel(unconstrained[v.name]) for v in fn._grad_vars])

    def evaluate():
        return fn(x)

    return evaluate


def prior_draws(spec: ModelSpec, data: Data, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of the free parameters from PyMC's own prior (forward sampling): {name: (n, *shape)}.

    Raises NotImplementedError where forward sampling is not the model's prior: a free variable whose
    transform restricts its distribution's support (an ``ordered`` Normal: PyMC draws it unordered)."""
    import pymc as pm
    from pymc.distributions.transforms import _default_transform

    names = [p.name for p in spec.params]
    model = build(spec, data)
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        default = _default_transform(rv.owner.op, rv)
        if transform is not None and type(transform) is not type(default):
            raise NotImplementedError(f"PyMC's forward sampling is not this model's prior: {rv.name} has the "
                                      f"{type(transform).__name__} transform, which forward sampling ignores")
    import logging

    logger = logging.getLogger("pymc")
    level, logger.level = logger.level, logging.WARNING  # no "Sampling: [...]" line per call
    try:
        with model:
            idata = pm.sample_prior_predictive(draws=n, var_names=names, random_seed=seed)
    finally:
        logger.setLevel(level)
    return {k: idata.prior[k].values[0].astype(np.float64) for k in names}


def observed_variables(spec: ModelSpec, model) -> dict[str, str]:
    """{observed data entry: name of the PyMC observed variable that models it}.

    An entry is matched by the variable's name, then by its data container (``<key>_data``), then by
    its observed values; an entry with no match is an error naming the model and the entry."""
    out = {}
    for key in spec.observed:
        for rv in model.observed_RVs:
            value = model.rvs_to_values[rv]
            if rv.name == key or getattr(value, "name", None) == key + DATA_SUFFIX:
                out[key] = rv.name
                break
        else:
            raise ValueError(f"model {spec.name!r}: observed entry {key!r} has no observed variable in "
                             f"pymc_model.py (observed variables: {[rv.name for rv in model.observed_RVs]})")
    return out


def predictive(spec: ModelSpec, data: Data, params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """One replicate of the observed entries per parameter draw, from the PyMC model: params {name:
    (n, *shape)} -> {observed entry: (n, *shape)} (``pm.sample_posterior_predictive``, one compile)."""
    import logging

    import pymc as pm
    import xarray as xr

    model = build(spec, data)
    names = observed_variables(spec, model)
    dataset = xr.Dataset({k: (("chain", "draw", *(f"{k}_dim_{i}" for i in range(np.ndim(v) - 1))),
                              np.asarray(v, dtype=np.float64)[None]) for k, v in params.items()})
    logger = logging.getLogger("pymc")
    level, logger.level = logger.level, logging.WARNING  # no "Sampling: [y]" line per call
    try:
        draws = pm.sample_posterior_predictive(dataset, model=model, var_names=list(names.values()),
                                               random_seed=seed, return_inferencedata=False, progressbar=False)
    finally:
        logger.setLevel(level)
    return {key: np.asarray(draws[name])[0] for key, name in names.items()}


def _support_of(model, rv) -> str:
    """The support text (``harness.supports``) of a free variable, from its PyMC transform."""
    transform = model.rvs_to_transforms.get(rv)
    kind = type(transform).__name__ if transform is not None else None
    if kind is None:
        return "real"
    if kind == "LogTransform":
        return "positive"
    if kind == "LogOddsTransform":
        return "interval(0, 1)"
    if kind == "Ordered":
        return "ordered"
    if kind == "SimplexTransform":
        return "simplex"
    if kind == "Interval":
        values = [None if b is None else np.asarray(b.eval() if hasattr(b, "eval") else b)
                  for b in transform.args_fn(*rv.owner.inputs)]
        if any(v is not None and v.size != 1 for v in values):
            raise ValueError(f"free variable {rv.name!r} has bounds that vary by element")
        lower, upper = (None if v is None else float(v.reshape(())) for v in values)
        if lower is not None and upper is not None:
            return f"interval({lower:g}, {upper:g})"
        if lower is not None:
            return "positive" if lower == 0 else f"lower({lower:g})"
        return f"upper({upper:g})"
    raise ValueError(f"free variable {rv.name!r} has the {kind} transform, which the harness's supports do not "
                     "describe (real, positive, lower/upper/interval, ordered, simplex)")


def inspect_model(path, data: Data):
    """What ``harness new-model`` needs from a PyMC file that defines ``build(data) -> pm.Model``."""
    from pathlib import Path

    import pymc as pm

    from harness.backends.base import ImplementationError, ModelInfo, rows_entry
    from harness.catalogue import import_file

    path = Path(path)
    try:
        module = import_file(path)
    except Exception as err:
        raise ImplementationError(f"{path} does not import: {type(err).__name__}: {err}") from None
    build_fn = getattr(module, "build", None)
    if not callable(build_fn):
        raise ImplementationError(f"{path} defines no build(data) -> pm.Model; a PyMC implementation is a "
                                  "function of the data dict that returns the model (models/README.md)")
    try:
        model = build_fn(data)
    except Exception as err:
        raise ImplementationError(f"{path}: build(data) raised {type(err).__name__}: {err} (data entries: "
                                  f"{', '.join(sorted(data))})") from None
    if not isinstance(model, pm.Model):
        raise ImplementationError(f"{path}: build(data) returned {type(model).__name__}, not a pm.Model")
    discrete = [rv.name for rv in model.free_RVs if rv.type.dtype.startswith("int")]
    if discrete:
        raise ImplementationError(f"{path}: discrete free variables {discrete}: NUTS samples continuous "
                                  "parameters only (marginalise them)")
    shapes = model.eval_rv_shapes()
    params, observed, notes = [], [], []
    for rv in model.free_RVs:
        try:
            support = _support_of(model, rv)
        except ValueError as err:
            support = "?"
            notes.append(f"{err}; write its support in model.py by hand")
        params.append((rv.name, tuple(int(n) for n in shapes[rv.name]), support))
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        name = getattr(value, "name", None) or ""
        key = name[: -len(DATA_SUFFIX)] if name.endswith(DATA_SUFFIX) and name[: -len(DATA_SUFFIX)] in data else None
        if key is None and rv.name in data:
            key = rv.name
        if key is None:
            values = np.asarray(value.eval() if hasattr(value, "eval") else value)
            key = next((k for k, v in data.items() if np.shape(v) == values.shape and np.array_equal(v, values)), None)
        if key is None:
            notes.append(f"observed variable {rv.name!r} observes values that are no data entry (a transform of "
                         "the data?); name the observed entries with --observed")
            continue
        observed.append(key)
    simulator: tuple[str, ...] = ("prior", "posterior")
    from pymc.distributions.transforms import _default_transform

    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None and type(transform) is not type(_default_transform(rv.owner.op, rv)):
            simulator = ("posterior",)
            notes.append(f"{rv.name} has the {type(transform).__name__} transform: PyMC's forward sampling is not "
                         "its prior, so prior SBC needs a numpy sample_prior")
    return ModelInfo(family=FAMILY, params=tuple(params), observed=tuple(observed),
                     rows=rows_entry(data, observed), simulator=simulator, notes=tuple(notes))


def initial_point_fn(model, transformed: bool = True):
    """PyMC's jittered initial point: ``seed -> {value-variable name: array}`` on the unconstrained
    scale, or ``{variable name: array}`` on the constrained scale when ``transformed`` is false.

    The strategy of ``pm.sample`` and nutpie: the support point of every free variable, jittered
    by U(-1, 1) on the unconstrained scale.
    """
    from pymc.initial_point import make_initial_point_fn

    return make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs), return_transformed=transformed)


def bounds_depend_on_parameters(model) -> bool:
    """Whether some free variable's transform depends on another free variable (Stan's
    ``real<lower=0, upper=(1 - alpha1)> beta1``). PyMC 6 cannot map initial values given on the
    unconstrained scale back for such a variable, so ``pm.sample`` takes constrained ones there."""
    from pytensor.graph.basic import ancestors

    free = set(model.free_RVs)
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        if transform is None:
            continue
        image = transform.forward(rv.type(), *rv.owner.inputs)
        if free & set(ancestors([image])):
            return True
    return False


# ---------------------------------------------------------------- JAX (pymc-numpyro, pymc-blackjax)


class JaxModel:
    """A PyMC model as JAX functions of its unconstrained value variables and its data.

    ``position`` is a tuple with one array per value variable (``value_names``, PyMC's
    ``model.value_vars`` order, each of the variable's unconstrained shape); ``data`` a tuple with one
    array per ``pm.Data`` container (``data_names``, ``model.data_vars`` order). The containers are
    inputs of the jaxified graphs, not constants, so one compiled program serves every data set of the
    same shapes (``data_of``).

    logp(position, data) -> scalar              joint log density on the unconstrained scale (with Jacobian)
    constrain(position, data) -> {name: array}  the free parameters ``names`` on the constrained scale
    initial_positions(seeds) -> position        PyMC's jittered initial points, one per seed: (len(seeds), *shape)
    """

    def __init__(self, model, names: tuple[str, ...]):
        from pymc.sampling.jax import get_jaxified_graph
        from pytensor.graph.replace import clone_replace

        self.model = model
        self.names = names
        self.value_names = tuple(v.name for v in model.value_vars)
        containers = list(model.data_vars)
        self.data_names = tuple(v.name for v in containers)
        stand_ins = [v.type(name=v.name) for v in containers]
        constrained = {v.name: v for v in model.unobserved_value_vars}
        outputs = clone_replace([model.logp(), *(constrained[n] for n in names)], replace=dict(zip(containers, stand_ins)))
        inputs = [*model.value_vars, *stand_ins]
        self._logp = get_jaxified_graph(inputs=inputs, outputs=outputs[:1])
        self._constrain = get_jaxified_graph(inputs=inputs, outputs=outputs[1:])
        self._initial_point = initial_point_fn(model)

    def logp(self, position, data):
        return self._logp(*position, *data)[0]

    def constrain(self, position, data) -> dict:
        return dict(zip(self.names, self._constrain(*position, *data)))

    def data_of(self, data: Data) -> tuple[np.ndarray, ...]:
        """The containers' values for ``data`` (the model's own values where ``data`` has no entry)."""
        updates = data_updates(self.model, data, data) or {}
        return tuple(updates.get(n, np.asarray(self.model[n].get_value())) for n in self.data_names)

    def initial_positions(self, seeds: list[int]) -> tuple[np.ndarray, ...]:
        points = [self._initial_point(s) for s in seeds]
        return tuple(np.stack([np.asarray(p[n], dtype=np.float64) for p in points]) for n in self.value_names)

    def position_of(self, point: dict) -> tuple[np.ndarray, ...]:
        """Constrained {name: value} -> unconstrained position."""
        unconstrained = unconstrained_point(self.model, point)
        return tuple(unconstrained[n] for n in self.value_names)


def rebuild_for(compiled, data: Data, prepare) -> float:
    """Make a JAX-family handle ({"spec", "data", "jm", ...}) serve ``data``; returns rebuild seconds.

    Data that fits the compiled programs (``data_updates``) needs nothing: the programs take the
    containers' values as arguments. Otherwise ``prepare()`` builds and compiles a new handle for
    ``data`` (it replaces ``compiled.handle``) and its wall seconds are returned.
    """
    handle = compiled.handle
    if data_updates(handle["jm"].model, handle["data"], data) is not None:
        return 0.0
    start = time.perf_counter()
    compiled.handle = {"spec": handle["spec"], **prepare()}
    return time.perf_counter() - start


def jax_gradient_fn(spec: ModelSpec, data: Data, point: dict):
    """Zero-argument closure: the jaxified log density and its gradient (jitted) at ``point``."""
    from harness.backends import _jax

    _jax.configure()
    import jax

    jm = JaxModel(build(spec, data), tuple(p.name for p in spec.params))
    grad = jax.jit(jax.value_and_grad(jm.logp))
    position, values = jax.device_put((jm.position_of(point), jm.data_of(data)))
    jax.block_until_ready(grad(position, values))

    def evaluate():
        return jax.block_until_ready(grad(position, values))

    return evaluate


# ---------------------------------------------------------------- potential (equivalence hook)


class PymcPotential:
    """The sampler's potential of the PyMC model: ``-logp`` of the value variables with Jacobian.

    Layout: the free parameters in ``spec.params`` order, each its value variable raveled (C order; a
    simplex's value variable has K - 1 elements). ``to_unconstrained`` uses PyMC's own transforms
    (``Unconstrainer``); ``value_and_grad`` is ``model.compile_logp(jacobian=True)`` /
    ``compile_dlogp(jacobian=True)`` (pytensor).
    """

    own_transform = True

    def __init__(self, spec: ModelSpec, data: Data):
        model = build(spec, data)
        self.model = model
        self.names = tuple(p.name for p in spec.params)
        rvs = {rv.name: rv for rv in model.free_RVs}
        extra = sorted(set(rvs) - set(self.names))
        missing = sorted(set(self.names) - set(rvs))
        if extra or missing:
            raise ValueError(f"model {spec.name!r}: PyMC free variables differ from the declaration: "
                             f"extra {extra}, missing {missing}")
        self._values = [model.rvs_to_values[rvs[n]] for n in self.names]
        start = model.initial_point()
        self.shapes = tuple(np.shape(start[v.name]) for v in self._values)
        self._unconstrain = Unconstrainer(model)
        self._logp = model.compile_logp(jacobian=True)
        self._dlogp = model.compile_dlogp(vars=[rvs[n] for n in self.names], jacobian=True)

    def to_unconstrained(self, point: dict) -> np.ndarray:
        u = self._unconstrain(point)
        return np.concatenate([np.ravel(u[v.name]) for v in self._values]).astype(np.float64)

    def _split(self, u: np.ndarray) -> dict:
        out, i = {}, 0
        for v, shape in zip(self._values, self.shapes):
            n = int(np.prod(shape, dtype=int))
            out[v.name] = np.asarray(u[i:i + n], dtype=np.float64).reshape(shape)
            i += n
        return out

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        point = self._split(np.asarray(u, dtype=np.float64))
        return -float(self._logp(point)), -np.asarray(self._dlogp(point), dtype=np.float64).ravel()


def potential(spec: ModelSpec, data: Data) -> PymcPotential:
    """Equivalence hook (see ``harness.equivalence``): the PyMC family's potential for ``data``."""
    return PymcPotential(spec, data)
