"""GARCH(1,1) in NumPyro: flat priors as improper uniforms on their supports; the scale recursion as a scan."""

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    y = data["y"]
    mu = numpyro.sample("mu", dist.ImproperUniform(constraints.real, (), ()))
    alpha0 = numpyro.sample("alpha0", dist.ImproperUniform(constraints.positive, (), ()))
    alpha1 = numpyro.sample("alpha1", dist.ImproperUniform(constraints.interval(0.0, 1.0), (), ()))
    beta1 = numpyro.sample("beta1", dist.ImproperUniform(constraints.interval(0.0, 1.0 - alpha1), (), ()))

    def step(sigma_prev, y_prev):
        sigma = jnp.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev ** 2)
        return sigma, sigma

    sigma1 = jnp.asarray(data["sigma1"], dtype=y.dtype)
    _, rest = jax.lax.scan(step, sigma1, y[:-1])
    sigma = jnp.concatenate([sigma1[None], rest])
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)
