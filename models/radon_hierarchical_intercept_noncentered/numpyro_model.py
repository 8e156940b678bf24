"""Radon, hierarchical intercept, non-centred, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    alpha_raw = numpyro.sample("alpha_raw", dist.Normal(0.0, 1.0).expand([data["J"]]).to_event(1))
    beta = numpyro.sample("beta", dist.Normal(0.0, 10.0).expand([2]).to_event(1))
    mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    sigma_alpha = numpyro.sample("sigma_alpha", dist.HalfNormal(1.0))
    sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(1.0))
    alpha = mu_alpha + sigma_alpha * alpha_raw
    mu = alpha[data["county_idx"]] + data["log_uppm"] * beta[0] + data["floor_measure"] * beta[1]
    numpyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
