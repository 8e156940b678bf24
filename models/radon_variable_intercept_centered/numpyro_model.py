"""Radon, varying intercept, centred, all states, in NumPyro (vectorised)."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    sigma_alpha = numpyro.sample("sigma_alpha", dist.HalfNormal(1.0))
    alpha = numpyro.sample("alpha", dist.Normal(mu_alpha, sigma_alpha).expand([data["J"]]).to_event(1))
    beta = numpyro.sample("beta", dist.Normal(0.0, 10.0))
    sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(1.0))
    mu = alpha[data["county_idx"]] + data["floor_measure"] * beta
    numpyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
