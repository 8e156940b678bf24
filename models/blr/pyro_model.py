"""Bayesian linear regression in Pyro."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    X, y = data["X"], data["y"]
    n, d = X.shape
    with pyro.plate("D", d):
        beta = pyro.sample("beta", dist.Normal(0.0, 10.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(torch.tensor(10.0)))
    with pyro.plate("N", n):
        pyro.sample("y", dist.Normal(X @ beta, sigma), obs=y)
