"""Radon, varying intercept and floor slope, non-centred, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    j = data["J"]
    sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(1.0))
    sigma_alpha = numpyro.sample("sigma_alpha", dist.HalfNormal(1.0))
    sigma_beta = numpyro.sample("sigma_beta", dist.HalfNormal(1.0))
    alpha_raw = numpyro.sample("alpha_raw", dist.Normal(0.0, 1.0).expand([j]).to_event(1))
    beta_raw = numpyro.sample("beta_raw", dist.Normal(0.0, 1.0).expand([j]).to_event(1))
    mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    mu_beta = numpyro.sample("mu_beta", dist.Normal(0.0, 10.0))
    alpha = mu_alpha + sigma_alpha * alpha_raw
    beta = mu_beta + sigma_beta * beta_raw
    county = data["county_idx"]
    mu = alpha[county] + data["floor_measure"] * beta[county]
    numpyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
