"""Log mesquite regression in Pyro: flat priors (improper uniforms on the supports)."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints

PREDICTORS = ("diam1", "diam2", "canopy_height", "total_height", "density")


def model(data):
    log_weight = torch.log(data["weight"])
    beta = pyro.sample("beta", dist.ImproperUniform(constraints.real, (), (7,)))
    sigma = pyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    mu = beta[0] + sum(beta[i + 1] * torch.log(data[k]) for i, k in enumerate(PREDICTORS)) + beta[6] * data["group"]
    with pyro.plate("N", log_weight.shape[0]):
        pyro.sample("log_weight", dist.Normal(mu, sigma), obs=log_weight)
