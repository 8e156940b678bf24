"""Test quantities, thinning and ranks of one SBC replicate.

Test quantities of a model (``quantity_names``): every scalar component of every free parameter,
named like ``mu`` or ``theta_trans[3]`` (row-major for matrices: ``beta[1,2]``), then ``loglik``
(``spec.log_likelihood`` of the simulated data) and ``joint`` (``spec.log_prior`` +
``spec.log_likelihood``), each evaluated at the true parameters and at every kept posterior draw.
``loglik`` and ``joint`` catch a dropped or wrong likelihood: sampling from the prior gives uniform
parameter ranks, but the true parameters fit their own data better than prior draws do.

Thinning rule (``thin``), the same for every backend:

1. ESS = the smallest rank-normalised bulk ESS (Vehtari et al. 2021; ArviZ's ``ess(method="bulk")``,
   computed here for all components at once, see ``ess_bulk``) over *every test quantity*: the
   free-parameter components and ``loglik`` and ``joint``, evaluated at every draw after warm-up
   (the log density often mixes more slowly than the parameters).
2. Thinning factor ``t = ceil(n_total / ESS)``: every ``t``-th draw of each chain is a candidate,
   so candidates are about one effective sample apart.
3. Exactly ``kept`` (= L, default 39) candidates are kept, evenly spaced; ranks are then in 0..L.
   L is fixed per run so every replicate's ranks are comparable. With 500 draws, L = 39 keeps draws
   at least 12 iterations apart, far beyond the autocorrelation time of a healthy fit.
4. If fewer than L candidates exist, the fit cannot provide L near-independent draws: the replicate
   gets status ``low_ess``, its ranks (from L evenly spaced, correlated draws) are stored for
   inspection but never enter a verdict, and it counts as a failed fit.

L + 1 = 40 is a multiple of 40, so the central 50/80/95% intervals of the kept draws are exactly
order statistics (see ``harness.sbc.stats.coverage``). ``loglik``/``joint`` cost one reference-density
call per draw (500 per replicate by default).

Rank of a quantity = #(kept draws < true value) + a uniform random integer in 0..#(draws == true
value), from the replicate's own random generator, so ties are broken uniformly at random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from harness.spec import Data, ModelSpec, Params

DEFAULT_KEPT = 39
EXTRA_QUANTITIES = ("loglik", "joint")


def param_component_names(spec: ModelSpec, data: Data) -> list[str]:
    """Scalar components of the free parameters, in ``spec.params`` order, row-major within each."""
    names = []
    for p in spec.params:
        shape = p.resolve_shape(data)
        if shape == ():
            names.append(p.name)
        else:
            names.extend(f"{p.name}[{','.join(str(i) for i in idx)}]" for idx in np.ndindex(*shape))
    return names


def extra_quantities(spec: ModelSpec) -> tuple[str, ...]:
    """``loglik`` and ``joint`` where the model has a numpy density, else none."""
    return EXTRA_QUANTITIES if spec.has_density else ()


def quantity_names(spec: ModelSpec, data: Data) -> list[str]:
    """Every test quantity: parameter components, then ``loglik`` and ``joint`` (models with a numpy density)."""
    return param_component_names(spec, data) + list(extra_quantities(spec))


def flatten_point(spec: ModelSpec, data: Data, params: Params) -> np.ndarray:
    """One parameter point -> its scalar components, shape (P,)."""
    parts = [np.asarray(params[p.name], dtype=np.float64).reshape(p.resolve_shape(data)).ravel() for p in spec.params]
    return np.concatenate(parts) if parts else np.zeros(0)


def flatten_draws(spec: ModelSpec, data: Data, draws: dict[str, np.ndarray]) -> np.ndarray:
    """Draws {name: (chain, draw, *shape)} -> (chain, draw, P) in ``param_component_names`` order."""
    parts = []
    for p in spec.params:
        values = np.asarray(draws[p.name], dtype=np.float64)
        parts.append(values.reshape(values.shape[:2] + (-1,)))
    return np.concatenate(parts, axis=2)


def point_at(spec: ModelSpec, draws: dict[str, np.ndarray], chain: int, draw: int) -> Params:
    """The parameter point of one draw: {name: array of the parameter's shape}."""
    return {p.name: np.asarray(draws[p.name][chain, draw], dtype=np.float64) for p in spec.params}


# ---------------------------------------------------------------- effective sample size


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance along axis 1 of (chain, draw, P) by FFT, as ArviZ's ``autocov``."""
    n = x.shape[1]
    m = _next_fast_len(2 * n)
    centred = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=1)
    f *= np.conjugate(f)
    return np.fft.irfft(f, n=m, axis=1)[:, :n] / n


def _next_fast_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return next_fast_len(n)


def _geyer_ess(acov: np.ndarray, chain_mean: np.ndarray) -> float:
    """ArviZ's ``_ess`` from the autocovariance of one component: acov (chain, draw), means (chain,)."""
    n_chain, n_draw = acov.shape
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(chain_mean, ddof=1)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # rho[t] for every lag t
    rho_hat = np.zeros(n_draw)
    rho_even, rho_odd = 1.0, rho[1]
    rho_hat[0], rho_hat[1] = rho_even, rho_odd
    t = 1
    while t < n_draw - 3 and rho_even + rho_odd > 0.0:  # Geyer's initial positive sequence
        rho_even, rho_odd = rho[t + 1], rho[t + 2]
        if rho_even + rho_odd >= 0:
            rho_hat[t + 1], rho_hat[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho_hat[max_t + 1] = rho_even
    t = 1
    while t <= max_t - 2:  # Geyer's initial monotone sequence
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t]:
            rho_hat[t + 1] = rho_hat[t + 2] = (rho_hat[t - 1] + rho_hat[t]) / 2.0
        t += 2
    size = n_chain * n_draw
    tau = -1.0 + 2.0 * np.sum(rho_hat[: max_t + 1]) + np.sum(rho_hat[max_t + 1: max_t + 2])
    tau = max(tau, 1.0 / np.log10(size))
    return float("nan") if np.isnan(rho_hat).any() else size / tau


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split-chain bulk ESS of every component: x (chain, draw, P) -> (P,).

    The same numbers as ``arviz.ess(x[:, :, p], method="bulk")`` for each ``p`` (tested), with the
    rank normalisation and FFTs done for all components at once (ArviZ's per-call overhead is
    ~5 ms per component, as much as a NumPyro replicate's fit).
    """
    x = np.asarray(x, dtype=np.float64)
    n_chain, n_draw, n_comp = x.shape
    if n_draw < 4 or not np.all(np.isfinite(x)):
        return np.full(n_comp, np.nan)
    half = n_draw // 2
    split = np.concatenate([x[:, :half], x[:, -half:]], axis=0)  # (2*chain, half, P)
    size = split.shape[0] * half
    ranks = stats.rankdata(split.reshape(size, n_comp), method="average", axis=0)
    z = stats.norm.ppf((ranks - 0.375) / (size + 0.25)).reshape(split.shape)
    acov = _autocov(z)
    means = z.mean(axis=1)
    out = np.empty(n_comp)
    for j in range(n_comp):
        column = z[:, :, j]
        if column.max() - column.min() < np.finfo(float).resolution:
            out[j] = size
        else:
            out[j] = _geyer_ess(acov[:, :, j], means[:, j])
    return out


# ---------------------------------------------------------------- thinning and ranks


@dataclass
class Thinning:
    """Which draws are kept.

    chain, draw: (L,) indices of the kept draws.
    factor: thinning factor t; ess: smallest bulk ESS; candidates: draws available after thinning.
    enough: True when candidates >= L (the kept draws are near-independent).
    """

    chain: np.ndarray
    draw: np.ndarray
    factor: int
    ess: float
    candidates: int
    enough: bool


def thin(x: np.ndarray, kept: int, ess: float | None = None) -> Thinning:
    """Choose ``kept`` near-independent draws from x (chain, draw, Q); see the module docstring.

    ``ess``: the smallest bulk ESS when already known (else computed over x's components).
    """
    n_chain, n_draw, _ = x.shape
    total = n_chain * n_draw
    if ess is None:
        ess = float(np.min(ess_bulk(x))) if x.shape[2] else float(total)
    factor = max(1, math.ceil(total / ess)) if np.isfinite(ess) and ess > 0 else total
    per_chain = np.arange(0, n_draw, factor)
    cand_chain = np.repeat(np.arange(n_chain), per_chain.size)
    cand_draw = np.tile(per_chain, n_chain)
    enough = cand_draw.size >= kept
    if not enough:  # kept only for inspection: L evenly spaced (correlated) draws of all
        cand_chain = np.repeat(np.arange(n_chain), n_draw)
        cand_draw = np.tile(np.arange(n_draw), n_chain)
    pick = np.round(np.linspace(0, cand_draw.size - 1, kept)).astype(int)
    return Thinning(cand_chain[pick], cand_draw[pick], factor, ess, int(per_chain.size * n_chain), bool(enough))


def rank_of(true: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ranks of true values among draws, ties broken uniformly: true (Q,), draws (L, Q) -> (Q,) in 0..L."""
    true = np.asarray(true, dtype=np.float64)
    draws = np.asarray(draws, dtype=np.float64)
    less = np.sum(draws < true, axis=0)
    equal = np.sum(draws == true, axis=0)
    return less + rng.integers(0, equal + 1)


def log_terms(spec: ModelSpec, data: Data, params: Params) -> tuple[float, ...]:
    """(loglik, joint) at one point: the extra test quantities; () for a model without a numpy density."""
    if spec.log_prior is None or spec.log_likelihood is None:
        return ()
    loglik = float(spec.log_likelihood(params, data))
    return loglik, float(spec.log_prior(params, data)) + loglik


def batched_log_terms(spec: ModelSpec, data: Data, draws: dict[str, np.ndarray]) -> np.ndarray:
    """(loglik, joint) at every draw {name: (chain, draw, *shape)} in one call: (chain * draw, 2), for a
    model with ``batched_density``."""
    n = int(np.prod(np.shape(draws[spec.params[0].name])[:2]))
    flat = {p.name: np.asarray(draws[p.name], dtype=np.float64).reshape((n, *p.resolve_shape(data)))
            for p in spec.params}
    assert spec.log_prior is not None and spec.log_likelihood is not None
    loglik = np.asarray(spec.log_likelihood(flat, data), dtype=np.float64)
    joint = np.asarray(spec.log_prior(flat, data), dtype=np.float64) + loglik
    return np.stack([loglik, joint], axis=-1)


def quantity_values(spec: ModelSpec, data: Data, params: Params) -> np.ndarray:
    """All test quantities at one point: (Q,) = parameter components, loglik, joint."""
    return np.concatenate([flatten_point(spec, data, params), log_terms(spec, data, params)])


@dataclass
class ReplicateRanks:
    """Ranks of one replicate.

    status: "ok" or "low_ess" (fewer than L near-independent draws; see ``thin``).
    ranks: {quantity: rank in 0..n_kept}.
    """

    status: str
    ranks: dict[str, int]
    n_kept: int
    thin: int
    ess_bulk_min: float          # smallest bulk ESS over every test quantity (the thinning's ESS)
    info: dict = field(default_factory=dict)  # candidates; ess_params_min, ess_loglik, ess_joint


def replicate_ranks(spec: ModelSpec, data: Data, truth: Params, draws: dict[str, np.ndarray], kept: int,
                    rng: np.random.Generator) -> ReplicateRanks:
    """Thin the draws {name: (chain, draw, *shape)} of one fit and rank the truth among the kept ones.

    ``data`` is the simulated data set the fit saw; ``rng`` breaks ties (the replicate's own stream).
    Raises FloatingPointError when a test quantity is NaN.
    """
    x = flatten_draws(spec, data, draws)
    n_chain, n_draw, n_par = x.shape
    extras = extra_quantities(spec)
    values = np.empty((n_chain, n_draw, n_par + len(extras)))
    values[:, :, :n_par] = x
    if extras and spec.batched_density:  # every draw in one call (equal, bit for bit, to the loop below)
        values[:, :, n_par:] = batched_log_terms(spec, data, draws).reshape(n_chain, n_draw, len(extras))
    elif extras:
        for c in range(n_chain):
            for d in range(n_draw):
                values[c, d, n_par:] = log_terms(spec, data, point_at(spec, draws, c, d))
    names = quantity_names(spec, data)
    if np.any(np.isnan(values)):
        raise FloatingPointError(f"NaN test quantities: {[n for j, n in enumerate(names) if np.isnan(values[..., j]).any()]}")
    ess_all = ess_bulk(values)
    t = thin(values, kept, float(np.min(ess_all)))
    true_values = quantity_values(spec, data, truth)
    kept_values = values[t.chain, t.draw]
    bad = [n for n, v in zip(names, np.vstack([true_values, kept_values]).T) if np.any(np.isnan(v))]
    if bad:
        raise FloatingPointError(f"NaN test quantities: {bad}")
    ranks = rank_of(true_values, kept_values, rng)
    return ReplicateRanks(
        status="ok" if t.enough else "low_ess",
        ranks={n: int(r) for n, r in zip(names, ranks)},
        n_kept=kept,
        thin=t.factor,
        ess_bulk_min=t.ess,
        info={"candidates": t.candidates, "ess_params_min": float(np.min(ess_all[:n_par])) if n_par else float("nan"),
              **{f"ess_{q}": float(e) for q, e in zip(extras, ess_all[n_par:])}},
    )
