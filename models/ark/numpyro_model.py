"""AR(K) in NumPyro: the lagged design built from y by slicing (K is a static int)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    y, K = data["y"], data["K"]
    T = y.shape[0]
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 10.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, 10.0).expand([K]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
    lagged = jnp.stack([y[K - k - 1:T - k - 1] for k in range(K)], axis=1)
    with numpyro.plate("T", T - K):
        numpyro.sample("y", dist.Normal(alpha + lagged @ beta, sigma), obs=y[K:])
