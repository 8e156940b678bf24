"""An ill-conditioned Gaussian in NumPyro (MultivariateNormal given the Cholesky factor of its covariance)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    L = data["L"]
    numpyro.sample("x", dist.MultivariateNormal(jnp.zeros(data["D"]), scale_tril=L))
