"""Radon, varying intercept and floor slope, non-centred, in Pyro."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    j = data["J"]
    sigma_y = pyro.sample("sigma_y", dist.HalfNormal(torch.tensor(1.0)))
    sigma_alpha = pyro.sample("sigma_alpha", dist.HalfNormal(torch.tensor(1.0)))
    sigma_beta = pyro.sample("sigma_beta", dist.HalfNormal(torch.tensor(1.0)))
    alpha_raw = pyro.sample("alpha_raw", dist.Normal(0.0, 1.0).expand([j]).to_event(1))
    beta_raw = pyro.sample("beta_raw", dist.Normal(0.0, 1.0).expand([j]).to_event(1))
    mu_alpha = pyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    mu_beta = pyro.sample("mu_beta", dist.Normal(0.0, 10.0))
    alpha = mu_alpha + sigma_alpha * alpha_raw
    beta = mu_beta + sigma_beta * beta_raw
    county = data["county_idx"]
    mu = alpha[county] + data["floor_measure"] * beta[county]
    pyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
