"""Stochastic level + stochastic seasonal in NumPyro: flat priors as improper uniforms on their supports
(mu on its data-dependent interval), sigma positive ordered with its Student-t terms as a factor."""

import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

PERIOD = 12


def model(data):
    n = data["n"]
    y, x, w = data["y"], data["x"], data["w"]
    windows = np.arange(PERIOD - 1, n)[:, None] - np.arange(PERIOD - 1, 0, -1)[None, :]  # (n - 11, 11)
    mu = numpyro.sample("mu", dist.ImproperUniform(constraints.interval(data["mu_lower"], data["mu_upper"]), (), (n,)))
    seasonal = numpyro.sample("seasonal", dist.ImproperUniform(constraints.real, (), (n,)))
    beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real, (), ()))
    lam = numpyro.sample("lambda", dist.ImproperUniform(constraints.real, (), ()))
    sigma = numpyro.sample("sigma", dist.ImproperUniform(constraints.positive_ordered_vector, (), (3,)))
    numpyro.factor("sigma_prior", dist.StudentT(4.0, 0.0, 1.0).log_prob(sigma).sum())
    numpyro.factor("seasonal_prior",
                   dist.Normal(-seasonal[windows].sum(axis=1), sigma[0]).log_prob(seasonal[PERIOD - 1:]).sum())
    numpyro.factor("mu_prior", dist.Normal(mu[:-1], sigma[1]).log_prob(mu[1:]).sum())
    yhat = mu + beta * x + lam * w
    numpyro.sample("y", dist.Normal(yhat + seasonal, sigma[2]).to_event(1), obs=y)
