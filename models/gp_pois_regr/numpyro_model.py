"""Poisson GP regression in NumPyro: f = L f_tilde, L the Cholesky factor of the exp-quad kernel + 1e-10 I."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    x, k, n = data["x"], data["k"], data["N"]
    rho = numpyro.sample("rho", dist.Gamma(25.0, 4.0))
    alpha = numpyro.sample("alpha", dist.HalfNormal(2.0))
    f_tilde = numpyro.sample("f_tilde", dist.Normal(0.0, 1.0).expand([n]).to_event(1))
    d2 = (x[:, None] - x[None, :]) ** 2
    cov = alpha ** 2 * jnp.exp(-0.5 * d2 / rho ** 2) + 1e-10 * jnp.eye(n)
    f = jnp.linalg.cholesky(cov) @ f_tilde
    numpyro.sample("k", dist.Poisson(jnp.exp(f)).to_event(1), obs=k)
