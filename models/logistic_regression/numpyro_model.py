"""Logistic regression, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    n, d = data["X"].shape
    alpha = numpyro.sample("alpha", dist.Normal(0.0, 2.5))
    with numpyro.plate("D", d):
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
    with numpyro.plate("N", n):
        numpyro.sample("y", dist.Bernoulli(logits=alpha + data["X"] @ beta), obs=data["y"])
