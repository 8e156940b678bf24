"""Two-component Gaussian mixture in Pyro: the ordered means as an improper uniform on the ordered region
plus their normal prior terms."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    y = data["y"]
    mu = pyro.sample("mu", dist.ImproperUniform(constraints.ordered_vector, (), (2,)))
    pyro.factor("mu_prior", dist.Normal(0.0, 2.0).log_prob(mu).sum())
    sigma = pyro.sample("sigma", dist.HalfNormal(torch.tensor(2.0)).expand([2]).to_event(1))
    theta = pyro.sample("theta", dist.Beta(5.0, 5.0))
    a = torch.log(theta) + dist.Normal(mu[0], sigma[0]).log_prob(y)
    b = torch.log1p(-theta) + dist.Normal(mu[1], sigma[1]).log_prob(y)
    pyro.factor("y", torch.logsumexp(torch.stack([a, b]), dim=0).sum())
