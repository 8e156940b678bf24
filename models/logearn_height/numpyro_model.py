"""Log earnings on height in NumPyro: flat priors (improper uniforms on the supports)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    log_earn = jnp.log(data["earn"])
    beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real, (), (2,)))
    sigma = numpyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    with numpyro.plate("N", log_earn.shape[0]):
        numpyro.sample("log_earn", dist.Normal(beta[0] + beta[1] * data["height"], sigma), obs=log_earn)
