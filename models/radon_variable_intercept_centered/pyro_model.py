"""Radon, varying intercept, centred, all states, in Pyro (vectorised)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    mu_alpha = pyro.sample("mu_alpha", dist.Normal(0.0, 10.0))
    sigma_alpha = pyro.sample("sigma_alpha", dist.HalfNormal(torch.tensor(1.0)))
    alpha = pyro.sample("alpha", dist.Normal(mu_alpha, sigma_alpha).expand([data["J"]]).to_event(1))
    beta = pyro.sample("beta", dist.Normal(0.0, 10.0))
    sigma_y = pyro.sample("sigma_y", dist.HalfNormal(torch.tensor(1.0)))
    mu = alpha[data["county_idx"]] + data["floor_measure"] * beta
    pyro.sample("log_radon", dist.Normal(mu, sigma_y).to_event(1), obs=data["log_radon"])
