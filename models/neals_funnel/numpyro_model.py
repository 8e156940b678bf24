"""Neal's funnel in NumPyro."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    v = numpyro.sample("v", dist.Normal(0.0, 3.0))
    numpyro.sample("x", dist.Normal(0.0, jnp.exp(v / 2.0)).expand([data["N"]]).to_event(1))
