"""Weibull survival regression with right censoring in Pyro: the events' Weibull log density and the
censored subjects' log survival function -(y / sigma)^alpha as one factor."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    X, y, censored = data["X"], data["y"], data["censored"]
    alpha = pyro.sample("alpha", dist.LogNormal(0.0, 0.5))
    intercept = pyro.sample("intercept", dist.Normal(0.0, 2.0))
    beta = pyro.sample("beta", dist.Normal(0.0, 1.0).expand([data["K"]]).to_event(1))
    sigma = torch.exp(intercept + X @ beta)
    log_event = dist.Weibull(sigma, alpha).log_prob(y)
    log_survival = -((y / sigma) ** alpha)
    pyro.factor("y", torch.where(censored == 1, log_survival, log_event).sum())
