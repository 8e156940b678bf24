"""Rats in NumPyro: the three scales' flat priors on (0, inf) are improper uniforms."""

import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, 100.0))
    mu_beta = numpyro.sample("mu_beta", dist.Normal(0.0, 100.0))
    sigma_y = numpyro.sample("sigma_y", dist.ImproperUniform(constraints.positive, (), ()))
    sigma_alpha = numpyro.sample("sigma_alpha", dist.ImproperUniform(constraints.positive, (), ()))
    sigma_beta = numpyro.sample("sigma_beta", dist.ImproperUniform(constraints.positive, (), ()))
    with numpyro.plate("rats", data["N"]):
        alpha = numpyro.sample("alpha", dist.Normal(mu_alpha, sigma_alpha))
        beta = numpyro.sample("beta", dist.Normal(mu_beta, sigma_beta))
    rat = data["rat"]
    with numpyro.plate("points", data["y"].shape[0]):
        numpyro.sample("y", dist.Normal(alpha[rat] + beta[rat] * (data["x"] - data["xbar"]), sigma_y), obs=data["y"])
