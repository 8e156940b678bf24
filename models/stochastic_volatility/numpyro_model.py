"""Stochastic volatility, non-centred, in NumPyro: the AR(1) recursion of the deviations h - mu as a scan
(the Stan program's order of operations, see ``model.log_volatility``)."""

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    y = data["y"]
    mu = numpyro.sample("mu", dist.Cauchy(0.0, 10.0))
    phi = numpyro.sample("phi", dist.Uniform(-1.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(5.0))
    h_std = numpyro.sample("h_std", dist.Normal(0.0, 1.0).expand([data["T"]]).to_event(1))
    a0 = h_std[0] * sigma / jnp.sqrt(1.0 - phi * phi)

    def step(a_prev, h_std_t):
        a = h_std_t * sigma + phi * a_prev
        return a, a

    _, rest = jax.lax.scan(step, a0, h_std[1:])
    h = jnp.concatenate([a0[None], rest]) + mu
    numpyro.sample("y", dist.Normal(0.0, jnp.exp(h / 2.0)).to_event(1), obs=y)
