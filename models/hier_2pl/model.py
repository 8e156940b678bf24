"""Hierarchical two-parameter logistic item response model (posteriordb ``sat-hier_2pl``).

y[n] ~ Bernoulli(logit^-1(exp(xi1[ii[n]]) (theta[jj[n]] - xi2[ii[n]]))) for item ii[n] and person jj[n];
theta[j] ~ N(0, 1); (xi1[i], xi2[i]) ~ MVN(mu, diag(tau) L_Omega L_Omega' diag(tau));
L_Omega ~ LKJCholesky(4); mu[0] ~ N(0, 1), mu[1] ~ N(0, 5); tau[k] ~ Exponential(0.1).
posteriordb's ``sat`` data (a grade-12 science assessment, Wood et al. 2003): 32 items, 600 persons,
19,200 responses. Derived: alpha = exp(xi1) (discriminations), beta = xi2
(difficulties).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, special, stats

from harness.spec import ModelSpec, Param
from models._common import bernoulli_logit_lpmf, normal_lpdf
from models._posteriordb import arrays, one_based

ETA = 4.0  # the LKJ shape of the program


def prepare(raw):
    return arrays(raw, ints=("y",), one_based=("ii", "jj"))


def onion_cholesky(rng, K, eta):
    """The Cholesky factor (K, K) of an LKJ(eta) correlation matrix, by the onion method (as NumPyro's
    LKJCholesky): row i's off-diagonal part is sqrt(y) times a uniform direction, y ~ Beta(i/2, eta + (K-1-i)/2)."""
    L = np.zeros((K, K))
    L[0, 0] = 1.0
    for i in range(1, K):
        y = rng.beta(i / 2.0, eta + (K - 1 - i) / 2.0)
        u = rng.normal(size=i)
        L[i, :i] = np.sqrt(y) * u / np.linalg.norm(u)
        L[i, i] = np.sqrt(1.0 - y)
    return L


def lkj_corr_cholesky_lpdf(L, eta):
    """Stan's lkj_corr_cholesky_lpdf up to a constant: sum over rows k = 2..K (1-based) of
    (K - k + 2 eta - 2) log L[k, k]."""
    K = L.shape[-1]
    k = np.arange(1, K + 1)
    return float(np.sum((K - k + 2.0 * eta - 2.0) * np.log(np.diagonal(L))))


def sample_prior(rng, data):
    n_items = data["I"]
    theta = rng.normal(0.0, 1.0, size=data["J"])
    mu = np.array([rng.normal(0.0, 1.0), rng.normal(0.0, 5.0)])
    tau = rng.exponential(10.0, size=2)  # rate 0.1
    L_omega = onion_cholesky(rng, 2, ETA)
    xi = mu + rng.normal(size=(n_items, 2)) @ (tau[:, None] * L_omega).T
    return {"theta": theta, "xi1": xi[:, 0], "xi2": xi[:, 1], "mu": mu, "tau": tau, "L_Omega": L_omega}


def derive(params, data):
    return {"alpha": np.exp(np.asarray(params["xi1"])), "beta": np.asarray(params["xi2"], dtype=np.float64)}


def _logits(params, data):
    xi1, xi2, theta = (np.asarray(params[k]) for k in ("xi1", "xi2", "theta"))
    ii, jj = data["ii"], data["jj"]
    return np.exp(xi1[ii]) * (theta[jj] - xi2[ii])


def simulate(rng, params, data):
    p = special.expit(_logits(params, data))
    return {**data, "y": (rng.uniform(size=p.shape) < p).astype(np.int64)}


def log_prior(params, data):
    mu, tau, L = (np.asarray(params[k], dtype=np.float64) for k in ("mu", "tau", "L_Omega"))
    xi = np.stack([params["xi1"], params["xi2"]], axis=-1)  # (I, 2)
    L_sigma = tau[:, None] * L
    z = linalg.solve_triangular(L_sigma, (xi - mu).T, lower=True)  # (2, I)
    mvn = float(-0.5 * np.sum(z * z) - xi.shape[0] * np.sum(np.log(np.diagonal(L_sigma))))
    return (mvn + normal_lpdf(params["theta"], 0.0, 1.0) + lkj_corr_cholesky_lpdf(L, ETA)
            + normal_lpdf(mu[0], 0.0, 1.0) + normal_lpdf(mu[1], 0.0, 5.0)
            + float(np.sum(stats.expon.logpdf(tau, scale=10.0))))


def log_likelihood(params, data):
    return bernoulli_logit_lpmf(data["y"], _logits(params, data))


# Stan Math's bernoulli_logit_lpmf (CmdStan 2.35, httpstan 4.x / Stan 2.39) cuts off at |logit| = 20: per
# observation its value is off by at most exp(-20) and its derivative in the logit by at most 2 exp(-20) =
# 4.13e-9 (README.md, "Known difference from Stan's gradient")
STAN_BERNOULLI_LOGIT_DEVIATION = {
    "stan": (4.2e-9, "Stan Math bernoulli_logit_lpmf (CmdStan 2.35, Stan 2.39) past |logit| 20: the partial is "
                     "-exp(-ntheta) for ntheta = (2y-1) logit > 20, the wrong sign when y = 1 (stan-dev/math PR "
                     "#3397), and log1p(exp(ntheta)) is dropped from the value for ntheta < -20; per observation at "
                     "most exp(-20) in the value and 2 exp(-20) in the derivative"),
}


SPEC = ModelSpec(
    name="hier_2pl",
    description="Hierarchical 2PL IRT (science assessment, 32 items x 600 persons), correlated item parameters with an "
                "LKJ(4) Cholesky prior (posteriordb sat-hier_2pl)",
    params=(
        Param("theta", ("J",)),
        Param("xi1", ("I",)),
        Param("xi2", ("I",)),
        Param("mu", (2,)),
        Param("tau", (2,), "positive"),
        Param("L_Omega", (2, 2), "cholesky_corr"),
    ),
    derived=(Param("alpha", ("I",)), Param("beta", ("I",))),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "ii", "jj"),
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical", "irt"),
    size_class="large",
    posteriordb="sat-hier_2pl",
    known_deviation=STAN_BERNOULLI_LOGIT_DEVIATION,
)
