"""Poisson GLMM in Pyro. beta2 (declared on (-10, 20), given uniform(-10, 10) in Stan) has a
uniform(-10, 10) density, -inf above 10 as Stan's, on the support (-10, 20) (Stan's transform)."""

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.distributions.torch_distribution import TorchDistribution


class Beta2Prior(TorchDistribution):
    """Stan's ``real<lower=-10, upper=20> beta2; beta2 ~ uniform(-10, 10);``: support (-10, 20), density
    1/20 on [-10, 10] and 0 (log density -inf) on (10, 20)."""

    arg_constraints = {}
    support = constraints.interval(-10.0, 20.0)

    def __init__(self, validate_args=None):
        super().__init__(torch.Size(), torch.Size(), validate_args=validate_args)

    def sample(self, sample_shape=()):
        with torch.no_grad():
            return torch.empty(torch.Size(sample_shape), dtype=torch.get_default_dtype()).uniform_(-10.0, 10.0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (value >= -10.0) & (value <= 10.0)
        return torch.where(inside, torch.full_like(value, -math.log(20.0)), torch.full_like(value, -math.inf))


def model(data):
    year = data["year"]
    alpha = pyro.sample("alpha", dist.Uniform(-20.0, 20.0))
    beta1 = pyro.sample("beta1", dist.Uniform(-10.0, 10.0))
    beta2 = pyro.sample("beta2", Beta2Prior())
    beta3 = pyro.sample("beta3", dist.Uniform(-10.0, 10.0))
    sigma = pyro.sample("sigma", dist.Uniform(0.0, 5.0))
    with pyro.plate("n", data["n"]):
        eps = pyro.sample("eps", dist.Normal(0.0, sigma))
        log_lambda = alpha + beta1 * year + beta2 * (year * year) + beta3 * (year * year * year) + eps
        pyro.sample("C", dist.Poisson(torch.exp(log_lambda)), obs=data["C"].to(log_lambda.dtype))
