"""Linear regression with the regularised horseshoe prior (Piironen and Vehtari 2017), non-centred, on
simulated data: a small model of the sparse class.

beta0 ~ N(0, scale_icept); z[j] ~ N(0, 1); lambda[j] ~ half-Cauchy(0, 1); tau ~ half-Cauchy(0, scale_global);
caux ~ InvGamma(slab_df / 2, slab_df / 2); sigma ~ Exponential(1);
c = slab_scale sqrt(caux); lambda_tilde = sqrt(c^2 lambda^2 / (c^2 + tau^2 lambda^2));
beta = z lambda_tilde tau (declared derived); y[n] ~ N(beta0 + X[n] beta, sigma).

Data (``make_data``): X (N, D) standard normal; y simulated at beta0 = 0.5, sigma = 1 and a true beta
with three nonzero coefficients (2, -1.5, 1, then zeros). Fixed hyperparameters in the data dict:
scale_icept = 2, slab_scale = 2, slab_df = 4, p0 = 3 (the prior guess of the number of relevant
predictors) and scale_global = p0 / ((D - p0) sqrt(N)) (Piironen and Vehtari's choice, with the
noise scale taken as 1). ``simulate`` redraws y at the same X.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param, SpecError
from models._common import half_cauchy_lpdf, normal_lpdf

TRUE_BETA = (2.0, -1.5, 1.0)  # the nonzero coefficients, in the first positions; the rest are 0
TRUTH = {"beta0": 0.5, "sigma": 1.0}
HYPER = {"scale_icept": 2.0, "slab_scale": 2.0, "slab_df": 4.0, "p0": 3}


def make_data(rng, N, D):
    N, D = int(N), int(D)
    p0 = HYPER["p0"]
    if D <= p0:
        raise SpecError(f"horseshoe_regression: D = {D} must exceed p0 = {p0} (scale_global = p0 / ((D - p0) sqrt(N)))")
    data = {"N": N, "D": D, "X": rng.normal(0.0, 1.0, size=(N, D)), "y": np.zeros(N),
            "scale_icept": HYPER["scale_icept"], "slab_scale": HYPER["slab_scale"], "slab_df": HYPER["slab_df"],
            "p0": p0, "scale_global": float(p0 / ((D - p0) * np.sqrt(N)))}
    beta = np.zeros(D)
    k = min(D, len(TRUE_BETA))
    beta[:k] = TRUE_BETA[:k]
    y = rng.normal(TRUTH["beta0"] + data["X"] @ beta, TRUTH["sigma"])
    return {**data, "y": y}


def sample_prior(rng, data):
    d, half_df = data["D"], 0.5 * data["slab_df"]
    return {
        "beta0": rng.normal(0.0, data["scale_icept"]),
        "z": rng.normal(0.0, 1.0, d),
        "tau": np.abs(data["scale_global"] * rng.standard_cauchy()),
        "lambda": np.abs(rng.standard_cauchy(d)),
        "caux": 1.0 / rng.gamma(half_df, 1.0 / half_df),
        "sigma": rng.exponential(1.0),
    }


def derive(params, data):
    tau, caux = np.asarray(params["tau"])[..., None], np.asarray(params["caux"])[..., None]
    lam = np.asarray(params["lambda"])
    c2 = (data["slab_scale"] * np.sqrt(caux)) ** 2
    lambda_tilde = np.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    return {"beta": np.asarray(params["z"]) * lambda_tilde * tau}


def _mean(params, data):
    return float(params["beta0"]) + data["X"] @ derive(params, data)["beta"]


def simulate(rng, params, data):
    return {**data, "y": rng.normal(_mean(params, data), float(params["sigma"]))}


def _inv_gamma_lpdf(x, alpha, beta) -> float:
    """InvGamma(alpha, beta) log density (shape alpha, scale beta; -inf at and below 0)."""
    x = float(x)
    if not x > 0:
        return -np.inf
    return float(alpha * np.log(beta) - special.gammaln(alpha) - (alpha + 1.0) * np.log(x) - beta / x)


def _exponential_lpdf(x, rate) -> float:
    """Exponential(rate) log density (-inf below 0)."""
    x = float(x)
    return float(np.log(rate) - rate * x) if x >= 0 else -np.inf


def log_prior(params, data):
    # half-Cauchy priors: scipy's halfcauchy (the truncation's log 2 included; a constant either way)
    half_df = 0.5 * data["slab_df"]
    return (normal_lpdf(params["beta0"], 0.0, data["scale_icept"])
            + normal_lpdf(params["z"], 0.0, 1.0)
            + half_cauchy_lpdf(params["lambda"], 1.0)
            + half_cauchy_lpdf(params["tau"], data["scale_global"])
            + _inv_gamma_lpdf(params["caux"], half_df, half_df)
            + _exponential_lpdf(params["sigma"], 1.0))


def log_likelihood(params, data):
    return normal_lpdf(data["y"], _mean(params, data), float(params["sigma"]))


SPEC = ModelSpec(
    name="horseshoe_regression",
    description="Linear regression, regularised horseshoe prior, N = 100 simulated rows x D = 25 predictors "
                "(3 nonzero)",
    params=(
        Param("beta0"),
        Param("z", ("D",)),
        Param("tau", support="positive"),
        Param("lambda", ("D",), "positive"),
        Param("caux", support="positive"),
        Param("sigma", support="positive"),
    ),
    derived=(Param("beta", ("D",)),),
    derive=derive,
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    size_defaults={"N": 100, "D": 25},
    tags=("sparse", "glm", "synthetic"),
    size_class="small",
)
