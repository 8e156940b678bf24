"""GARCH(1,1) in NumPyro: flat priors as improper uniforms on their supports; the scale recursion as a scan.

``beta1``'s support (0, 1 - alpha1) depends on ``alpha1``. An ``ImproperUniform`` wraps it in an
independent constraint, which NumPyro's check for supports that depend on other values does not look
into: its samplers then constrain every draw with the transform of the initial ``alpha1`` (wrong
draws of ``beta1``, and a leaked tracer under ``vmap``). A ``Uniform(0, 1 - alpha1)`` exposes the
interval, so NumPyro replays the model to constrain; its density -log(1 - alpha1) is added back as a
factor, which keeps Stan's flat prior exactly.
"""

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
    beta1 = numpyro.sample("beta1", dist.Uniform(0.0, 1.0 - alpha1))
    numpyro.factor("beta1_flat", jnp.log(1.0 - alpha1))  # Stan's beta1 has no prior term

    def step(sigma_prev, y_prev):
        sigma = jnp.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev ** 2)
        return sigma, sigma

    sigma1 = jnp.asarray(data["sigma1"], dtype=y.dtype)
    _, rest = jax.lax.scan(step, sigma1, y[:-1])
    sigma = jnp.concatenate([sigma1[None], rest])
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)
