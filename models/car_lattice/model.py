"""Disease mapping with a proper CAR random effect on a rook-adjacency lattice (synthetic; after Joseph
2016, "Exact sparse CAR models in Stan", and Besag, York and Mollie 1991).

An R x C grid of N = R C areas, neighbours by rook adjacency (shared edges): W (N, N) the 0/1 adjacency,
d = W 1 the neighbour counts, D = diag(d), lambda the eigenvalues of D^{-1/2} W D^{-1/2} (in [-1, 1]).

beta1 ~ N(0, 1); tau ~ Gamma(2, 2) (shape 2, rate 2: the precision);
alpha ~ Uniform(0, 1) (the spatial dependence); phi ~ MVN(0, [tau (D - alpha W)]^{-1}), the proper CAR;
y[i] ~ Poisson(E[i] exp(beta1 x[i] + phi[i])). No separate intercept: the proper CAR's phi carries
the overall level (an intercept beside it makes a ridge along beta0 = -mean(phi) as alpha nears 1, which
mixed too slowly for 4 x 1,000 draws: R-hat up to 1.13 in a first version).

The CAR log density, exact (det(D - alpha W) = det(D) prod_i (1 - alpha lambda_i)):
0.5 N log tau + 0.5 sum_i log(1 - alpha lambda_i) + 0.5 sum_i log d_i
- 0.5 tau (phi' D phi - alpha phi' W phi) - 0.5 N log(2 pi).
Every family writes this same normalised expression with the precomputed eigenvalues.

Data (``make_data``): E[i] ~ Uniform(5, 20) expected counts, x[i] ~ N(0, 1), phi drawn from the CAR at
alpha = 0.9, tau = 2, and y from the likelihood at beta1 = 0.5. ``simulate`` redraws y.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, special, stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, uniform_lpdf

TRUTH = {"beta1": 0.5, "tau": 2.0, "alpha": 0.9}
EXPECTED = (5.0, 20.0)  # E[i] ~ Uniform(EXPECTED)
_LOG_2PI = np.log(2.0 * np.pi)


def lattice_adjacency(rows, cols):
    """The (rows cols, rows cols) 0/1 rook adjacency of a rows x cols grid, areas numbered row by row."""
    n = rows * cols
    w = np.zeros((n, n))
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            if r + 1 < rows:
                w[k, k + cols] = w[k + cols, k] = 1.0
            if c + 1 < cols:
                w[k, k + 1] = w[k + 1, k] = 1.0
    return w


def precision(tau, alpha, data):
    """tau (D - alpha W), the CAR precision, (N, N) dense."""
    return tau * (np.diag(data["d"]) - alpha * data["W"])


def draw_car(rng, tau, alpha, data):
    """One exact draw of phi ~ N(0, Q^-1): with Q = L L', phi = L'^-1 z, z ~ N(0, I)."""
    chol = linalg.cholesky(precision(tau, alpha, data), lower=True)
    return linalg.solve_triangular(chol, rng.normal(0.0, 1.0, data["N"]), lower=True, trans="T")


def make_data(rng, rows, cols):
    rows, cols = int(rows), int(cols)
    n = rows * cols
    w = lattice_adjacency(rows, cols)
    d = w.sum(axis=1)
    d_rsqrt = 1.0 / np.sqrt(d)
    lam = np.linalg.eigvalsh(d_rsqrt[:, None] * w * d_rsqrt[None, :])
    data = {"rows": rows, "cols": cols, "N": n, "W": w, "d": d, "lambda": lam,
            "E": rng.uniform(*EXPECTED, size=n), "x": rng.normal(0.0, 1.0, size=n),
            "y": np.zeros(n, dtype=np.int64)}
    truth = {**TRUTH, "phi": draw_car(rng, TRUTH["tau"], TRUTH["alpha"], data)}
    return simulate(rng, truth, data)


def sample_prior(rng, data):
    out = {"beta1": rng.normal(0.0, 1.0), "tau": rng.gamma(2.0, 1.0 / 2.0),
           "alpha": rng.uniform(0.0, 1.0)}
    out["phi"] = draw_car(rng, out["tau"], out["alpha"], data)
    return out


def _log_rate(params, data):
    return np.log(data["E"]) + float(params["beta1"]) * data["x"] + np.asarray(params["phi"])


def simulate(rng, params, data):
    return {**data, "y": rng.poisson(np.exp(_log_rate(params, data))).astype(np.int64)}


def car_lpdf(phi, tau, alpha, data) -> float:
    """The proper CAR log density of phi, normalised (-inf for tau <= 0 or alpha outside [0, 1))."""
    tau, alpha, phi = float(tau), float(alpha), np.asarray(phi, dtype=np.float64)
    if not (tau > 0.0 and 0.0 <= alpha < 1.0):
        return -np.inf
    n = data["N"]
    quad = np.dot(data["d"] * phi, phi) - alpha * np.dot(phi, data["W"] @ phi)
    return float(0.5 * (n * np.log(tau) + np.sum(np.log1p(-alpha * data["lambda"])) + np.sum(np.log(data["d"]))
                        - tau * quad - n * _LOG_2PI))


def log_prior(params, data):
    return (normal_lpdf(params["beta1"], 0.0, 1.0)
            + float(stats.gamma.logpdf(params["tau"], 2.0, scale=1.0 / 2.0)) + uniform_lpdf(params["alpha"], 0.0, 1.0)
            + car_lpdf(params["phi"], params["tau"], params["alpha"], data))


def log_likelihood(params, data):
    eta, y = _log_rate(params, data), data["y"]
    return float(np.sum(y * eta - np.exp(eta) - special.gammaln(y + 1)))


SPEC = ModelSpec(
    name="car_lattice",
    description="Poisson disease mapping with a proper CAR effect on an 8 x 8 rook lattice (N = 64 simulated areas)",
    params=(
        Param("beta1"),
        Param("tau", support="positive"),
        Param("alpha", support="interval(0, 1)"),
        Param("phi", ("N",)),
    ),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    size_defaults={"rows": 8, "cols": 8},
    tags=("spatial", "hierarchical", "synthetic"),
    size_class="small",
)
