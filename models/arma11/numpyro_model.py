"""ARMA(1, 1) in NumPyro: the error recursion as a scan; the errors' density as a factor."""

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    y = data["y"]
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    phi = numpyro.sample("phi", dist.Normal(0.0, 2.0))
    theta = numpyro.sample("theta", dist.Normal(0.0, 2.0))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))

    def step(err_prev, ys):
        y_t, y_prev = ys
        err = y_t - (mu + phi * y_prev + theta * err_prev)
        return err, err

    err1 = y[0] - (mu + phi * mu)
    _, rest = jax.lax.scan(step, err1, (y[1:], y[:-1]))
    err = jnp.concatenate([err1[None], rest])
    numpyro.factor("err", dist.Normal(0.0, sigma).log_prob(err).sum())
