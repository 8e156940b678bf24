"""Log mesquite regression in NumPyro: flat priors (improper uniforms on the supports)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

PREDICTORS = ("diam1", "diam2", "canopy_height", "total_height", "density")


def model(data):
    log_weight = jnp.log(data["weight"])
    beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real, (), (7,)))
    sigma = numpyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    mu = beta[0] + sum(beta[i + 1] * jnp.log(data[k]) for i, k in enumerate(PREDICTORS)) + beta[6] * data["group"]
    with numpyro.plate("N", log_weight.shape[0]):
        numpyro.sample("log_weight", dist.Normal(mu, sigma), obs=log_weight)
