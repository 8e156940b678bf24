"""Poisson GLMM in NumPyro. beta2 (declared on (-10, 20), given uniform(-10, 10) in Stan) has a
uniform(-10, 10) density, -inf above 10 as Stan's, on the support (-10, 20) (Stan's transform)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import random
from numpyro.distributions import constraints


class Beta2Prior(dist.Distribution):
    """Stan's ``real<lower=-10, upper=20> beta2; beta2 ~ uniform(-10, 10);``: support (-10, 20), density
    1/20 on [-10, 10] and 0 (log density -inf) on (10, 20)."""

    support = constraints.interval(-10.0, 20.0)

    def __init__(self, validate_args=None):
        super().__init__(batch_shape=(), event_shape=(), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        return random.uniform(key, sample_shape, minval=-10.0, maxval=10.0)

    def log_prob(self, value):
        return jnp.where((value >= -10.0) & (value <= 10.0), -jnp.log(20.0), -jnp.inf)


def model(data):
    year = data["year"]
    alpha = numpyro.sample("alpha", dist.Uniform(-20.0, 20.0))
    beta1 = numpyro.sample("beta1", dist.Uniform(-10.0, 10.0))
    beta2 = numpyro.sample("beta2", Beta2Prior())
    beta3 = numpyro.sample("beta3", dist.Uniform(-10.0, 10.0))
    sigma = numpyro.sample("sigma", dist.Uniform(0.0, 5.0))
    with numpyro.plate("n", data["n"]):
        eps = numpyro.sample("eps", dist.Normal(0.0, sigma))
        log_lambda = alpha + beta1 * year + beta2 * (year * year) + beta3 * (year * year * year) + eps
        numpyro.sample("C", dist.Poisson(jnp.exp(log_lambda)), obs=data["C"])
