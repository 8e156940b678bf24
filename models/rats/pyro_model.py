"""Rats in Pyro: the three scales' flat priors on (0, inf) are improper uniforms."""

import pyro
import pyro.distributions as dist
from pyro.distributions import constraints


def model(data):
    mu_alpha = pyro.sample("mu_alpha", dist.Normal(0.0, 100.0))
    mu_beta = pyro.sample("mu_beta", dist.Normal(0.0, 100.0))
    sigma_y = pyro.sample("sigma_y", dist.ImproperUniform(constraints.positive, (), ()))
    sigma_alpha = pyro.sample("sigma_alpha", dist.ImproperUniform(constraints.positive, (), ()))
    sigma_beta = pyro.sample("sigma_beta", dist.ImproperUniform(constraints.positive, (), ()))
    with pyro.plate("rats", data["N"]):
        alpha = pyro.sample("alpha", dist.Normal(mu_alpha, sigma_alpha))
        beta = pyro.sample("beta", dist.Normal(mu_beta, sigma_beta))
    rat = data["rat"]
    with pyro.plate("points", data["y"].shape[0]):
        pyro.sample("y", dist.Normal(alpha[rat] + beta[rat] * (data["x"] - data["xbar"]), sigma_y), obs=data["y"])
