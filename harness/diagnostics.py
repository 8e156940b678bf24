"""ArviZ in one place: diagnostics that work with ArviZ 0.x and with 1.x (arviz-base + arviz-stats).

Every ESS, R-hat, MCSE, InferenceData and ECDF band in the harness comes through here, so the rest of
the code does not care which ArviZ is installed. Both majors take a ``{name: (chain, draw, *shape)}``
dataset built by ``arviz.convert_to_dataset`` and return an ``xarray.Dataset`` of the same variables
(shapes without chain and draw). Known difference: ArviZ 1.x computes tail ESS with another quantile
estimator, so ``ess_tail`` differs slightly between majors (the result's provenance says which ran).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# The diagnostic rules every table, flag, report and recommendation applies (one home):
RHAT_MAX = 1.01  # max rank-normalised split R-hat of a converged fit (also posteriordb's reference rule)
ESS_MIN = 100  # min bulk ESS below which a fit is flagged ``low_ess``


@lru_cache(maxsize=1)
def arviz_major() -> int:
    import arviz

    return int(arviz.__version__.split(".")[0])


def posterior_dataset(draws: dict[str, np.ndarray]):
    """{name: (chain, draw, *shape)} -> ``xarray.Dataset`` with chain and draw dimensions, float64."""
    import arviz as az

    return az.convert_to_dataset({k: np.asarray(v, dtype=np.float64) for k, v in draws.items()})


def ess(draws: dict[str, np.ndarray], method: str = "bulk"):
    """ESS of every scalar component: Dataset of {name: shape}. ``method``: "bulk", "tail", "mean"."""
    import arviz as az

    return az.ess(posterior_dataset(draws), method=method)


def rhat(draws: dict[str, np.ndarray]):
    """Rank-normalised split R-hat of every scalar component: Dataset of {name: shape}."""
    import arviz as az

    return az.rhat(posterior_dataset(draws))


def mcse_mean(draws: dict[str, np.ndarray]):
    """Monte Carlo standard error of the mean of every scalar component: Dataset of {name: shape}."""
    import arviz as az

    return az.mcse(posterior_dataset(draws), method="mean")


def mcse_sd(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Monte Carlo standard error of the posterior sd of every scalar component: {name: shape}.

    Delta method on the variance: the squared deviations' mean has MCSE sd(dev^2) / sqrt(ESS(dev^2))
    (ArviZ's "mean" ESS of the squared deviations), and se(sd) = se(var) / (2 sd). Written here, on
    ArviZ's ESS, because ArviZ 0.23's ``mcse(method="sd")`` fails with NumPy 2 (the oldest stack).
    """
    out = {}
    for name, values in draws.items():
        x = np.asarray(values, dtype=np.float64)
        dev2 = (x - x.mean(axis=(0, 1))) ** 2
        ess_dev2 = np.asarray(ess({name: dev2}, "mean")[name].values, dtype=np.float64)
        sd = x.std(axis=(0, 1), ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = dev2.std(axis=(0, 1), ddof=1) / np.sqrt(ess_dev2) / (2.0 * sd)
    return out


QUANTILE_WINDOW = 0.025  # half-width (probability) of the window the quantile MCSE measures the density on


def quantile_mcse_ess(draws: dict[str, np.ndarray], prob: float) -> tuple[dict, dict, dict]:
    """({name: the ``prob`` quantile}, {name: its MCSE}, {name: its ESS}) of every scalar component.

    ESS: ArviZ's quantile ESS (``ess(method="quantile", prob)``). MCSE: the asymptotic
    ``sqrt(p (1 - p) / ESS) / f(q)``, the density f at the quantile measured by the draws' quantile
    spacing over the probability window ``p +/- max(sd_p, QUANTILE_WINDOW)``, ``sd_p = sqrt(p (1 - p) /
    ESS)``. ArviZ's own MCSE measures that spacing over +/- sd_p only, a handful of draws in the
    tails, and its z-scores came out 1.26 sd wide (2 x 300 draws) and 1.07 sd (4 x 1,000) on NumPyro and
    nutpie fits of Eight Schools against the reference; over the wider window they are 1.13 and 0.95
    (docs/accuracy.md).
    """
    import arviz as az

    quantiles, mcses, esses = {}, {}, {}
    for name, values in draws.items():
        x = np.asarray(values, dtype=np.float64)
        flat = x.reshape(x.shape[0] * x.shape[1], -1)
        ess_q = np.asarray(az.ess(posterior_dataset({name: x}), method="quantile", prob=prob)[name].values,
                           dtype=np.float64).reshape(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            sd_p = np.sqrt(prob * (1.0 - prob) / ess_q)
        half = np.maximum(np.nan_to_num(sd_p, nan=QUANTILE_WINDOW), QUANTILE_WINDOW)
        edge = 0.5 / flat.shape[0]
        lo, hi = np.clip(prob - half, edge, 1.0 - edge), np.clip(prob + half, edge, 1.0 - edge)
        spacing = np.array([(np.quantile(flat[:, j], hi[j]) - np.quantile(flat[:, j], lo[j])) / (hi[j] - lo[j])
                            for j in range(flat.shape[1])])
        shape = x.shape[2:]
        quantiles[name] = np.quantile(flat, prob, axis=0).reshape(shape)
        mcses[name] = (sd_p * spacing).reshape(shape)
        esses[name] = ess_q.reshape(shape)
    return quantiles, mcses, esses


def quantile_and_mcse(draws: dict[str, np.ndarray], prob: float) -> tuple[dict, dict]:
    """({name: the ``prob`` quantile}, {name: its MCSE}) (``quantile_mcse_ess``)."""
    quantiles, mcses, _ = quantile_mcse_ess(draws, prob)
    return quantiles, mcses


def inference_data(posterior: dict[str, np.ndarray], sample_stats: dict[str, np.ndarray] | None = None,
                   attrs: dict | None = None):
    """InferenceData (ArviZ 0.x) or DataTree (ArviZ 1.x) with ``posterior`` and ``sample_stats`` groups.

    Both write netCDF (``to_netcdf``) and zarr (``to_zarr``); ``arviz.from_netcdf`` opens either.
    """
    import arviz as az

    groups = {"posterior": {k: np.asarray(v) for k, v in posterior.items()}}
    if sample_stats:
        groups["sample_stats"] = {k: np.asarray(v) for k, v in sample_stats.items()}
    if arviz_major() >= 1:
        tree = az.from_dict(groups)
        for name in groups:
            tree[name].attrs.update(attrs or {})
        return tree
    idata = az.from_dict(**groups)
    for name in groups:
        getattr(idata, name).attrs.update(attrs or {})
    return idata


def save_inference_data(path, posterior: dict[str, np.ndarray], sample_stats: dict[str, np.ndarray],
                        attrs: dict) -> None:
    """Write a fit as netCDF4 (h5netcdf) that ``arviz.from_netcdf`` opens with either ArviZ major.

    ``attrs`` values are JSON-encoded when they are not plain numbers or strings (netCDF attributes
    take no dicts or None). Written to a temporary name and renamed, so a killed run leaves no
    half-written file.
    """
    import json
    import os

    clean = {k: (v if isinstance(v, (int, float, str)) and not isinstance(v, bool) else json.dumps(v))
             for k, v in attrs.items()}
    tmp = f"{path}.tmp"
    inference_data(posterior, sample_stats, clean).to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, path)


# ECDF bands ------------------------------------------------------------------------------------

BAND_SIMULATIONS = 20_000  # ArviZ 1.x's simulation method: quantile of the band level to ~1e-4
BAND_SEED = 20261130


@lru_cache(maxsize=256)
def ecdf_band(n: int, kept: int, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous ``prob`` band for the ECDF of ``n`` ranks in 0..kept, at k = 0..kept-1.

    Returns (lower, upper), each (kept,), as ECDF values (fractions of n). ArviZ 0.x: its
    "optimized" method (exact interior probability). ArviZ 1.x has only the simulation method: the
    same band estimated from ``BAND_SIMULATIONS`` uniform samples with a fixed seed (so every run
    gets the same band). Rank <= k of a discrete uniform on 0..kept is the event u <= (k+1)/(kept+1)
    of a continuous uniform, so the two methods estimate one band.
    """
    k = np.arange(kept)
    cdf = (k + 1) / (kept + 1)
    if arviz_major() >= 1:
        from arviz_stats.ecdf_utils import get_pointwise_confidence_band, simulate_confidence_bands

        rng = np.random.default_rng(BAND_SEED)
        pointwise = simulate_confidence_bands(n, 1, cdf, prob, BAND_SIMULATIONS, rng)
        lower, upper = get_pointwise_confidence_band(pointwise, n, cdf)
        return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    from arviz.stats.ecdf_utils import ecdf_confidence_band
    from arviz.utils import Numba

    # ArviZ's numba path JIT-compiles for ~10 s in every process; its numpy path gives the same numbers
    flag, Numba.numba_flag = Numba.numba_flag, False
    try:
        lower, upper = ecdf_confidence_band(n, k, cdf, prob=prob, method="optimized")
    finally:
        Numba.numba_flag = flag
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
