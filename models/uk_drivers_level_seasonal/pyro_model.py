"""Stochastic level + stochastic seasonal in Pyro: flat priors as improper uniforms on their supports
(mu on its data-dependent interval), sigma positive ordered with its Student-t terms as a factor."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints

PERIOD = 12


def model(data):
    n = data["n"]
    y, x, w = data["y"], data["x"], data["w"]
    windows = torch.arange(PERIOD - 1, n)[:, None] - torch.arange(PERIOD - 1, 0, -1)[None, :]  # (n - 11, 11)
    mu = pyro.sample("mu", dist.ImproperUniform(constraints.interval(data["mu_lower"], data["mu_upper"]), (), (n,)))
    seasonal = pyro.sample("seasonal", dist.ImproperUniform(constraints.real, (), (n,)))
    beta = pyro.sample("beta", dist.ImproperUniform(constraints.real, (), ()))
    lam = pyro.sample("lambda", dist.ImproperUniform(constraints.real, (), ()))
    sigma = pyro.sample("sigma", dist.ImproperUniform(constraints.positive_ordered_vector, (), (3,)))
    pyro.factor("sigma_prior", dist.StudentT(4.0, 0.0, 1.0).log_prob(sigma).sum())
    pyro.factor("seasonal_prior",
                dist.Normal(-seasonal[windows].sum(dim=1), sigma[0]).log_prob(seasonal[PERIOD - 1:]).sum())
    pyro.factor("mu_prior", dist.Normal(mu[:-1], sigma[1]).log_prob(mu[1:]).sum())
    yhat = mu + beta * x + lam * w
    pyro.sample("y", dist.Normal(yhat + seasonal, sigma[2]).to_event(1), obs=y)
