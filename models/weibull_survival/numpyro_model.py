"""Weibull survival regression with right censoring in NumPyro: the events' Weibull log density and the
censored subjects' log survival function -(y / sigma)^alpha as one factor."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    X, y, censored = data["X"], data["y"], data["censored"]
    alpha = numpyro.sample("alpha", dist.LogNormal(0.0, 0.5))
    intercept = numpyro.sample("intercept", dist.Normal(0.0, 2.0))
    beta = numpyro.sample("beta", dist.Normal(0.0, 1.0).expand([data["K"]]).to_event(1))
    sigma = jnp.exp(intercept + X @ beta)
    log_event = dist.Weibull(sigma, alpha).log_prob(y)
    log_survival = -((y / sigma) ** alpha)
    numpyro.factor("y", jnp.where(censored == 1, log_survival, log_event).sum())
