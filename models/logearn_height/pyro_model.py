"""Log earnings on height in Pyro: flat priors (improper uniforms on the supports)."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    log_earn = torch.log(data["earn"])
    beta = pyro.sample("beta", dist.ImproperUniform(constraints.real, (), (2,)))
    sigma = pyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    with pyro.plate("N", log_earn.shape[0]):
        pyro.sample("log_earn", dist.Normal(beta[0] + beta[1] * data["height"], sigma), obs=log_earn)
