"""Two-state HMM in NumPyro: flat simplexes, positive-ordered means, the forward algorithm as a scan."""

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints


def model(data):
    y, k = data["y"], data["K"]
    theta1 = numpyro.sample("theta1", dist.Dirichlet(jnp.ones(k)))
    theta2 = numpyro.sample("theta2", dist.Dirichlet(jnp.ones(k)))
    mu = numpyro.sample("mu", dist.ImproperUniform(constraints.positive_ordered_vector, (), (k,)))
    numpyro.factor("mu_prior", dist.Normal(3.0, 1.0).log_prob(mu[0]) + dist.Normal(10.0, 1.0).log_prob(mu[1]))
    log_theta = jnp.log(jnp.stack([theta1, theta2]))  # [from, to]

    def step(gamma, y_t):
        gamma = logsumexp(gamma[:, None] + log_theta, axis=0) + dist.Normal(mu, 1.0).log_prob(y_t)
        return gamma, None

    gamma, _ = jax.lax.scan(step, dist.Normal(mu, 1.0).log_prob(y[0]), y[1:])
    numpyro.factor("y", logsumexp(gamma))
