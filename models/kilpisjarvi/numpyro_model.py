"""Kilpisjarvi linear trend in NumPyro: normal priors with data hyperparameters, flat sigma on sigma > 0."""

import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    x, y = data["x"], data["y"]
    alpha = numpyro.sample("alpha", dist.Normal(data["pmualpha"], data["psalpha"]))
    beta = numpyro.sample("beta", dist.Normal(data["pmubeta"], data["psbeta"]))
    sigma = numpyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    with numpyro.plate("N", y.shape[0]):
        numpyro.sample("y", dist.Normal(alpha + beta * x, sigma), obs=y)
