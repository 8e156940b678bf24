"""Radon, hierarchical intercept, non-centred, in Pyro."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    alpha_raw = pyro.sample("alpha_raw", dist.Normal(0.0, 1.0).expand([data["J"]]).to_event(1))
    beta = pyro.sample("beta", dist.Normal(0.0, 10.0).expand([2]).to_event(1))
    mu_alpha = pyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    sigma_alpha = pyro.sample("sigma_alpha", dist.HalfNormal(torch.tensor(1.0)))
    sigma_y = pyro.sample("sigma_y", dist.HalfNormal(torch.tensor(1.0)))
    alpha = mu_alpha + sigma_alpha * alpha_raw
    mu = alpha[data["county_idx"]] + data["log_uppm"] * beta[0] + data["floor_measure"] * beta[1]
    pyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
