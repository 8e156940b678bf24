"""Hierarchical Gaussian process model of US presidential votes by state
(posteriordb ``state_wide_presidential_votes-hierarchical_gp``; Trangucci, "Hierarchical Gaussian
Processes in Stan", StanCon 2017).

y[n] (Republican vote share of a state in an election year) ~ N(obs_mu[n], sigma_error), with
obs_mu[n] = mu + year_re[year] + state_re[state] + region_re[region] + GP_region[year, region]
+ GP_state[year, state]. Variances: vars = 17 prop_var tot_var (prop_var ~ Dirichlet(2, ..., 2),
tot_var ~ Gamma(3, 3)), split into the year, region, 10 regional state-effect, four GP and the error
variances. Non-centred effects: year_re = sigma_year year_std, region_re = sigma_region region_std,
state_re = sigma_state[region of the state] state_std; GP_region = L_region GP_region_std,
GP_state = L_state GP_state_std, L the Cholesky factor of a sum of two squared-exponential kernels
(a long and a short length scale, Weibull(30, 8) and Weibull(30, 3) priors) over the 14 years
1..14, plus 1e-6 on the diagonal. Every std ~ N(0, 1), mu ~ N(0.5, 0.5). 550 observations
(50 states x 11 elections).

The prior is proper, so ``sample_prior`` exists (start points, prior tests), but there is no
``simulate``: the Stan data block declares y in [0, 1], while the normal likelihood puts most of its
prior predictive mass outside it, so data simulated from the model would be refused by the Stan
program. SBC is therefore not applicable ("no prior simulator").
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays, one_based

INDICES = ("state_region_ind", "state_ind", "region_ind", "year_ind")
N_VARS = 17  # year, region, 10 regional state scales, 4 GP scales, the error
JITTER = 1e-6
LENGTHS = {"length_GP_region_long": 8.0, "length_GP_state_long": 8.0,  # Weibull(30, scale) priors
           "length_GP_region_short": 3.0, "length_GP_state_short": 3.0}


def prepare(raw):
    return arrays(raw, one_based=INDICES)


def stan_data(data):
    return one_based(data, *INDICES)


def sample_prior(rng, data):
    ny, nr, ns = data["N_years"], data["N_regions"], data["N_states"]
    out = {
        "GP_region_std": rng.normal(size=(ny, nr)),
        "GP_state_std": rng.normal(size=(ny, ns)),
        "year_std": rng.normal(size=data["N_years_obs"]),
        "state_std": rng.normal(size=ns),
        "region_std": rng.normal(size=nr),
        "tot_var": rng.gamma(3.0, 1.0 / 3.0),
        "prop_var": rng.dirichlet(np.full(N_VARS, 2.0)),
        "mu": rng.normal(0.5, 0.5),
    }
    for name, scale in LENGTHS.items():
        out[name] = scale * rng.weibull(30.0)
    return out


def _cholesky(years, sd_long, length_long, sd_short, length_short):
    d2 = (years[:, None] - years[None, :]) ** 2
    cov = sd_long**2 * np.exp(-0.5 * d2 / length_long**2) + sd_short**2 * np.exp(-0.5 * d2 / length_short**2)
    return np.linalg.cholesky(cov + JITTER * np.eye(len(years)))


def obs_mean(params, data):
    """(obs_mu (N,), sigma_error): the linear predictor and the error scale at one point."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    sd = np.sqrt(N_VARS * p["prop_var"] * p["tot_var"])
    years = np.arange(1.0, data["N_years"] + 1.0)
    gp_region = _cholesky(years, sd[12], p["length_GP_region_long"], sd[14], p["length_GP_region_short"]) @ p["GP_region_std"]
    gp_state = _cholesky(years, sd[13], p["length_GP_state_long"], sd[15], p["length_GP_state_short"]) @ p["GP_state_std"]
    year, state, region = data["year_ind"], data["state_ind"], data["region_ind"]
    state_re = sd[2:12][data["state_region_ind"]] * p["state_std"]
    out = (p["mu"] + sd[0] * p["year_std"][year] + state_re[state] + sd[1] * p["region_std"][region]
           + gp_region[year, region] + gp_state[year, state])
    return out, sd[16]


def log_prior(params, data):
    p = params
    lengths = sum(float(stats.weibull_min.logpdf(p[k], 30.0, scale=s)) for k, s in LENGTHS.items())
    return (normal_lpdf(p["GP_region_std"], 0.0, 1.0) + normal_lpdf(p["GP_state_std"], 0.0, 1.0)
            + normal_lpdf(p["year_std"], 0.0, 1.0) + normal_lpdf(p["state_std"], 0.0, 1.0)
            + normal_lpdf(p["region_std"], 0.0, 1.0) + normal_lpdf(p["mu"], 0.5, 0.5)
            + float(stats.gamma.logpdf(p["tot_var"], 3.0, scale=1.0 / 3.0))
            + float(np.sum((2.0 - 1.0) * np.log(np.asarray(p["prop_var"], dtype=np.float64))))  # Dirichlet(2), no constant
            + lengths)


def log_likelihood(params, data):
    mean, sigma = obs_mean(params, data)
    return normal_lpdf(data["y"], mean, sigma)


SPEC = ModelSpec(
    name="hierarchical_gp",
    description="Hierarchical GP model of state-wide presidential votes, 50 states x 11 elections (posteriordb)",
    params=(
        Param("GP_region_std", ("N_years", "N_regions")),
        Param("GP_state_std", ("N_years", "N_states")),
        Param("year_std", ("N_years_obs",)),
        Param("state_std", ("N_states",)),
        Param("region_std", ("N_regions",)),
        Param("tot_var", support="positive"),
        Param("prop_var", (N_VARS,), "simplex"),
        Param("mu"),
        Param("length_GP_region_long", support="positive"),
        Param("length_GP_state_long", support="positive"),
        Param("length_GP_region_short", support="positive"),
        Param("length_GP_state_short", support="positive"),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=stan_data,
    sample_prior=sample_prior,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("gp", "hierarchical", "time-series"),
    size_class="medium",
    posteriordb="state_wide_presidential_votes-hierarchical_gp",
)
