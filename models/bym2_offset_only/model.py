"""BYM2 spatial Poisson model, offset only (posteriordb ``traffic_accident_nyc-bym2_offset_only``; Riebler
et al. 2016, Morris et al. 2019): traffic accidents with pedestrians in 1,921 New York City census tracts,
5,461 neighbour pairs.

y[i] ~ Poisson(E[i] exp(beta0 + sigma (sqrt(1 - rho) theta[i] + sqrt(rho / scaling_factor) phi[i])));
beta0 ~ N(0, 1); sigma ~ HalfNormal(1); rho ~ Beta(0.5, 0.5); theta[i] ~ N(0, 1);
phi: the ICAR term -0.5 sum over edges (phi[node1] - phi[node2])^2 plus the soft sum-to-zero constraint
sum(phi) ~ N(0, 0.001 N), both custom log-density terms (factors / Potentials in the ports).

The prior is proper: the neighbourhood graph is connected (one component), so the ICAR term's only
flat direction, the constant vector, is fixed by the soft constraint; phi is Gaussian with precision
Q = L + 11' / (0.001 N)^2 (L the graph Laplacian). ``sample_prior`` draws it exactly (dense Cholesky of
Q) and ``simulate`` draws y, but neither is declared in SPEC: tests/test_prior.py compares the numpy
prior with each backend's forward draws of phi, which a factor-defined prior cannot give (NumPyro's and
Pyro's ImproperUniform and PyMC's Flat refuse to sample). Declare them to enable SBC once that test
leaves such models out.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, special, stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays, one_based

_CHOLESKY: dict = {}


def prepare(raw):
    return arrays(raw, ints=("y",), one_based=("node1", "node2"))


def phi_precision(data):
    """Q = graph Laplacian + 11' / (0.001 N)^2: phi's precision under the ICAR term and the soft
    sum-to-zero constraint, (N, N) dense."""
    n, node1, node2 = data["N"], data["node1"], data["node2"]
    q = np.zeros((n, n))
    np.add.at(q, (node1, node2), -1.0)
    np.add.at(q, (node2, node1), -1.0)
    q[np.diag_indices(n)] = np.bincount(np.concatenate([node1, node2]), minlength=n)
    return q + 1.0 / (0.001 * n) ** 2


def _phi_cholesky(data):
    key = (data["N"], data["node1"].tobytes(), data["node2"].tobytes())
    if key not in _CHOLESKY:
        _CHOLESKY.clear()
        _CHOLESKY[key] = linalg.cholesky(phi_precision(data), lower=True)
    return _CHOLESKY[key]


def sample_prior(rng, data):
    """One exact prior draw. phi ~ N(0, Q^-1): with Q = R R', phi = R'^-1 e, e ~ N(0, I)."""
    n = data["N"]
    out = {"beta0": rng.normal(0.0, 1.0), "sigma": np.abs(rng.normal(0.0, 1.0)), "rho": rng.beta(0.5, 0.5),
           "theta": rng.normal(0.0, 1.0, n)}
    out["phi"] = linalg.solve_triangular(_phi_cholesky(data), rng.normal(0.0, 1.0, n), lower=True, trans="T")
    return out


def _log_rate(params, data):
    rho = params["rho"]
    convolved = np.sqrt(1.0 - rho) * params["theta"] + np.sqrt(rho / data["scaling_factor"]) * params["phi"]
    return np.log(data["E"]) + params["beta0"] + convolved * params["sigma"]


def simulate(rng, params, data):
    return {**data, "y": rng.poisson(np.exp(_log_rate(params, data))).astype(np.int64)}


def log_prior(params, data):
    phi = np.asarray(params["phi"])
    icar = -0.5 * float(np.sum((phi[data["node1"]] - phi[data["node2"]]) ** 2))
    return (normal_lpdf(params["beta0"], 0.0, 1.0) + normal_lpdf(params["theta"], 0.0, 1.0)
            + normal_lpdf(params["sigma"], 0.0, 1.0) + float(stats.beta.logpdf(params["rho"], 0.5, 0.5))
            + icar + normal_lpdf(np.sum(phi), 0.0, 0.001 * data["N"]))


def log_likelihood(params, data):
    eta, y = _log_rate(params, data), data["y"]
    return float(np.sum(y * eta - np.exp(eta) - special.gammaln(y + 1)))


SPEC = ModelSpec(
    name="bym2_offset_only",
    description="BYM2 spatial Poisson model with an exposure offset, 1,921 NYC census tracts "
                "(posteriordb traffic_accident_nyc-bym2_offset_only)",
    params=(
        Param("beta0"),
        Param("sigma", support="positive"),
        Param("rho", support="interval(0, 1)"),
        Param("theta", ("N",)),
        Param("phi", ("N",)),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "node1", "node2"),
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("spatial", "hierarchical"),
    size_class="large",
    posteriordb="traffic_accident_nyc-bym2_offset_only",
)
