"""Bayesian linear regression in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    X, y = data["X"], data["y"]
    n, d = X.shape
    with numpyro.plate("D", d):
        beta = numpyro.sample("beta", dist.Normal(0.0, 10.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(10.0))
    with numpyro.plate("N", n):
        numpyro.sample("y", dist.Normal(X @ beta, sigma), obs=y)
