"""Two-component Gaussian mixture in NumPyro: the ordered means as an improper uniform on the ordered
region plus their normal prior terms."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints


def model(data):
    y = data["y"]
    mu = numpyro.sample("mu", dist.ImproperUniform(constraints.ordered_vector, (), (2,)))
    numpyro.factor("mu_prior", dist.Normal(0.0, 2.0).log_prob(mu).sum())
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0).expand([2]).to_event(1))
    theta = numpyro.sample("theta", dist.Beta(5.0, 5.0))
    a = jnp.log(theta) + dist.Normal(mu[0], sigma[0]).log_prob(y)
    b = jnp.log1p(-theta) + dist.Normal(mu[1], sigma[1]).log_prob(y)
    numpyro.factor("y", logsumexp(jnp.stack([a, b]), axis=0).sum())
