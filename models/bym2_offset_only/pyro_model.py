"""BYM2 (offset only) in Pyro: phi an improper uniform, with the ICAR pairwise term and the soft
sum-to-zero constraint as factors (integer counts cast to the rates' float dtype)."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    n = data["N"]
    beta0 = pyro.sample("beta0", dist.Normal(0.0, 1.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(torch.tensor(1.0)))
    rho = pyro.sample("rho", dist.Beta(0.5, 0.5))
    with pyro.plate("N", n):
        theta = pyro.sample("theta", dist.Normal(0.0, 1.0))
    phi = pyro.sample("phi", dist.ImproperUniform(constraints.real_vector, (), (n,)))
    pyro.factor("phi_icar", -0.5 * torch.sum(torch.square(phi[data["node1"]] - phi[data["node2"]])))
    pyro.factor("phi_sum", dist.Normal(0.0, 0.001 * n).log_prob(torch.sum(phi)))
    convolved = torch.sqrt(1.0 - rho) * theta + torch.sqrt(rho / data["scaling_factor"]) * phi
    rate = torch.exp(torch.log(data["E"]) + beta0 + convolved * sigma)
    with pyro.plate("N_obs", n):
        pyro.sample("y", dist.Poisson(rate), obs=data["y"].to(rate.dtype))
