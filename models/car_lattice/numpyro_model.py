"""Proper CAR disease mapping in NumPyro.

phi's distribution is ``ProperCAR`` (below): the exact CAR log density written with the precomputed
eigenvalues (as the Stan program: O(N^2) per evaluation), exact draws through a Cholesky of the
precision. ``dist.CAR`` has the same density but computes the eigenvalues of the traced adjacency at
every evaluation (an N x N eigendecomposition per gradient)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import random
from jax.scipy.linalg import solve_triangular
from numpyro.distributions import constraints


class ProperCAR(dist.Distribution):
    """phi ~ MVN(0, [tau (D - alpha W)]^-1), D = diag(d); ``lam`` the eigenvalues of D^-1/2 W D^-1/2."""

    support = constraints.real_vector
    pytree_data_fields = ("tau", "alpha", "W", "d", "lam")

    def __init__(self, tau, alpha, W, d, lam, validate_args=None):
        self.tau, self.alpha, self.W, self.d, self.lam = tau, alpha, W, d, lam
        super().__init__(batch_shape=(), event_shape=jnp.shape(d), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        chol = jnp.linalg.cholesky(self.tau * (jnp.diag(self.d) - self.alpha * self.W))
        z = random.normal(key, tuple(sample_shape) + self.event_shape)
        return solve_triangular(chol.T, z[..., None], lower=False)[..., 0]

    def log_prob(self, value):
        n = self.event_shape[0]
        quad = jnp.sum(self.d * value * value, -1) - self.alpha * jnp.sum(value * (value @ self.W), -1)
        return 0.5 * (n * jnp.log(self.tau) + jnp.sum(jnp.log1p(-self.alpha * self.lam)) + jnp.sum(jnp.log(self.d))
                      - self.tau * quad - n * jnp.log(2.0 * jnp.pi))


def model(data):
    beta1 = numpyro.sample("beta1", dist.Normal(0.0, 1.0))
    tau = numpyro.sample("tau", dist.Gamma(2.0, 2.0))
    alpha = numpyro.sample("alpha", dist.Uniform(0.0, 1.0))
    phi = numpyro.sample("phi", ProperCAR(tau, alpha, data["W"], data["d"], data["lambda"]))
    with numpyro.plate("N", data["N"]):
        numpyro.sample("y", dist.Poisson(jnp.exp(jnp.log(data["E"]) + beta1 * data["x"] + phi)), obs=data["y"])
