"""Where an SBC replicate's true parameters and data come from: prior SBC and posterior SBC.

**Prior SBC** (``method="prior"``, the default): the true parameters are a prior draw and the data are
drawn from the likelihood at them; the fit's ranks of the truth are uniform for a calibrated sampler.

**Posterior SBC** (``method="posterior"``; Säilynoja, Johnson, Martin and Vehtari 2025, as in simuk
0.3): the true parameters are a draw from the model's posterior given its observed data (the stored
reference draws), the replicate is drawn from the likelihood at them, and the fit is on the observed
data *plus* the replicate. Since the truth is a posterior draw and the replicate is new data given it,
the truth is a draw from the posterior given both, and its ranks are again uniform. Prior SBC checks
calibration over the whole prior, mostly far from where a real data set puts the posterior; posterior
SBC checks it where the posterior actually is, which is what a user of one model with one data set
needs. Appending a replicate is valid only when observations are conditionally independent given the
parameters, so the model declares its row structure (``ModelSpec.rows``) or an ``augment`` function.

Simulators, in order of preference:

1. the model's numpy ``sample_prior`` and ``simulate`` (``model.py``); each replicate owns a seed stream
   (``harness.sbc.worker.replicate_streams``), so a replicate is the same whatever batch or worker runs it;
2. the implementation of the family named by ``ModelSpec.simulator``, through an installed backend of that
   family with the ``prior_draws`` and ``predictive`` hooks (``harness.backends.base``): PyMC's prior
   and posterior predictive, NumPyro's ``Predictive``, Stan's generated quantities ``<observed>_rep``.
   These draw whole blocks of ``BLOCK`` replicates in one call, each block from its own seed, so a run
   extended with more replicates keeps the replicates it has.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

from harness.spec import Data, ModelSpec, Params, SpecError

METHODS = ("prior", "posterior")
BLOCK = 100  # replicates simulated per call of a family simulator
POSTERIOR_STREAM_OFFSET = 10  # posterior SBC's seed streams are disjoint from prior SBC's (0 and 1)


def numpy_simulator(spec: ModelSpec, method: str) -> bool:
    """The model's own numpy functions simulate for ``method``."""
    if method == "posterior":
        return spec.simulate is not None
    return spec.sample_prior is not None and spec.simulate is not None


def family_backend(spec: ModelSpec, method: str) -> tuple[str | None, str | None]:
    """(backend that simulates for the model's ``simulator`` family, None) or (None, why none can)."""
    from harness.backends import family_hook
    from harness.catalogue import families_present

    family = spec.simulator
    if family is None:
        return None, "no simulator declared"
    if family not in families_present(spec.name):
        return None, f"simulator {family!r}: the model brings no {family} implementation"
    hooks = ("predictive",) if method == "posterior" else ("prior_draws", "predictive")
    names = set()
    for hook in hooks:
        found = family_hook(family, hook)
        if found is None:
            return None, f"no installed {family} backend draws {'its prior' if hook == 'prior_draws' else 'replicates'}"
        names.add(found[0])
    return sorted(names)[0], None


def not_applicable(spec: ModelSpec, method: str = "prior") -> str | None:
    """Why SBC with ``method`` cannot run on the model here, or None when it can."""
    if method not in METHODS:
        raise SpecError(f"SBC method {method!r}; valid: {', '.join(METHODS)}")
    reason = spec.sbc_not_applicable(method)
    if reason or numpy_simulator(spec, method):
        return reason
    backend, why = family_backend(spec, method)
    return None if backend else f"not applicable: {why}"


def describe(spec: ModelSpec, method: str) -> str:
    """Where the replicates of ``method`` come from, for the run's provenance."""
    if numpy_simulator(spec, method):
        return "numpy simulator of model.py"
    backend, why = family_backend(spec, method)
    return f"the {spec.simulator} implementation (backend {backend})" if backend else str(why)


# ---------------------------------------------------------------- posterior SBC data


def augment(spec: ModelSpec, data: Data, replicate: Data) -> Data:
    """The observed data plus one replicate of the observed entries (posterior SBC's data set).

    ``spec.augment`` when declared; else the row rule of ``ModelSpec.rows``: every array whose leading
    axis has the observed length N is a row column, repeated; observed entries get the replicate's
    rows; the count entry ``rows`` (when named) doubles.
    """
    if spec.augment is not None:
        return spec.augment(data, replicate)
    if spec.rows is None:
        raise SpecError(f"model {spec.name!r}: {spec.sbc_not_applicable('posterior')}")
    lengths = {k: len(np.asarray(data[k])) for k in spec.observed}
    if len(set(lengths.values())) != 1:
        raise SpecError(f"model {spec.name!r}: observed entries have different lengths {lengths}; "
                        "declare augment for posterior SBC")
    n = next(iter(lengths.values()))
    out: dict = {}
    for key, value in data.items():
        if key in spec.observed:
            out[key] = np.concatenate([np.asarray(value), np.asarray(replicate[key], dtype=np.asarray(value).dtype)])
        elif isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
            out[key] = np.concatenate([value, value])
        else:
            out[key] = value
    if spec.rows:
        if spec.rows not in data:
            raise SpecError(f"model {spec.name!r}: rows={spec.rows!r} is not a data entry; entries: {sorted(data)}")
        if int(data[spec.rows]) != n:
            raise SpecError(f"model {spec.name!r}: data entry {spec.rows!r} = {data[spec.rows]} but the observed "
                            f"entries have {n} rows")
        out[spec.rows] = 2 * n
    return out


def fit_template(spec: ModelSpec, data: Data, method: str) -> Data:
    """A data set of the shape every replicate of ``method`` is fitted on (compiled once)."""
    if method == "posterior":
        return augment(spec, data, {k: data[k] for k in spec.observed})
    return data


@lru_cache(maxsize=8)
def _posterior_draws(model: str, path_text: str, mtime: float) -> dict[str, np.ndarray]:
    with np.load(path_text) as z:
        return {k: np.asarray(z[k], dtype=np.float64) for k in z.files}


def posterior_draws(spec: ModelSpec) -> dict[str, np.ndarray]:
    """The stored reference draws {name: (n, *shape)} posterior SBC draws its truths from."""
    from harness.catalogue import models_option, reference_dir

    path = reference_dir(spec.name) / "draws.npz"
    if not path.is_file():
        raise SpecError(f"model {spec.name!r}: posterior SBC draws its true parameters from the reference "
                        f"posterior, and {path} does not exist; make it with: "
                        f"python -m harness reference {models_option(spec.name)}")
    return _posterior_draws(spec.name, str(path), path.stat().st_mtime)


# ---------------------------------------------------------------- replicates


def _block_seed(root_seed: int, model: str, stream: int, block: int) -> int:
    entropy = [root_seed, zlib.crc32(model.encode()), stream, block, 7]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)


def _pick(draws: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[index] for k, v in draws.items()}


@lru_cache(maxsize=16)
def _family_block(model: str, method: str, root_seed: int, stream: int, block: int) -> tuple:
    """(truths {name: (BLOCK, *shape)}, replicates {observed: (BLOCK, *shape)}) of one block."""
    from harness.backends import family_hook
    from harness.catalogue import get_model

    spec = get_model(model)
    data = spec.data()
    seed = _block_seed(root_seed, model, stream, block)
    assert spec.simulator is not None
    if method == "posterior":
        draws = posterior_draws(spec)
        n_draws = len(next(iter(draws.values())))
        index = np.random.default_rng(seed).integers(0, n_draws, size=BLOCK)
        truths = {p.name: draws[p.name][index].reshape((BLOCK, *p.resolve_shape(data))) for p in spec.params}
    else:
        prior = family_hook(spec.simulator, "prior_draws")
        assert prior is not None
        truths = prior[1](spec, data, BLOCK, seed)
    predictive = family_hook(spec.simulator, "predictive")
    assert predictive is not None
    return truths, predictive[1](spec, data, truths, seed + 1)


def replicate(spec: ModelSpec, data: Data, method: str, root_seed: int, index: int, stream: int,
              rng: np.random.Generator) -> tuple[Params, Data]:
    """(true parameters, data set to fit) of replicate ``index``; ``rng`` is the replicate's own
    simulation stream (``harness.sbc.worker.replicate_streams``)."""
    if numpy_simulator(spec, method):
        if method == "posterior":
            draws = posterior_draws(spec)
            n_draws = len(next(iter(draws.values())))
            truth = {p.name: draws[p.name][int(rng.integers(0, n_draws))].reshape(p.resolve_shape(data))
                     for p in spec.params}
            assert spec.simulate is not None
            return truth, augment(spec, data, spec.simulate(rng, truth, data))
        assert spec.sample_prior is not None and spec.simulate is not None
        truth = spec.sample_prior(rng, data)
        return truth, spec.simulate(rng, truth, data)
    truths, replicates = _family_block(spec.name, method, root_seed, stream, index // BLOCK)
    i = index % BLOCK
    truth = {k: np.asarray(v[i]) for k, v in truths.items()}
    rep = {k: np.asarray(v[i]).astype(np.asarray(data[k]).dtype, copy=False) for k, v in replicates.items()}
    if method == "posterior":
        return truth, augment(spec, data, rep)
    return truth, {**data, **rep}
