"""Kilpisjarvi linear trend in Pyro: normal priors with data hyperparameters, flat sigma on sigma > 0."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    x, y = data["x"], data["y"]
    loc_a, scale_a, loc_b, scale_b = (torch.as_tensor(data[k], dtype=y.dtype)
                                      for k in ("pmualpha", "psalpha", "pmubeta", "psbeta"))
    alpha = pyro.sample("alpha", dist.Normal(loc_a, scale_a))
    beta = pyro.sample("beta", dist.Normal(loc_b, scale_b))
    sigma = pyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    with pyro.plate("N", y.shape[0]):
        pyro.sample("y", dist.Normal(alpha + beta * x, sigma), obs=y)
