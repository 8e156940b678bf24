"""Two-state HMM in Pyro: flat simplexes, positive-ordered means, the forward algorithm as a loop."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    y, k = data["y"], data["K"]
    theta1 = pyro.sample("theta1", dist.Dirichlet(torch.ones(k)))
    theta2 = pyro.sample("theta2", dist.Dirichlet(torch.ones(k)))
    mu = pyro.sample("mu", dist.ImproperUniform(constraints.positive_ordered_vector, (), (k,)))
    pyro.factor("mu_prior", dist.Normal(3.0, 1.0).log_prob(mu[0]) + dist.Normal(10.0, 1.0).log_prob(mu[1]))
    log_theta = torch.log(torch.stack([theta1, theta2]))  # [from, to]
    gamma = dist.Normal(mu, 1.0).log_prob(y[0])
    for t in range(1, y.shape[0]):
        gamma = torch.logsumexp(gamma[:, None] + log_theta, dim=0) + dist.Normal(mu, 1.0).log_prob(y[t])
    pyro.factor("y", torch.logsumexp(gamma, dim=0))
