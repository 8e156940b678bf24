"""Logistic regression, in Pyro (integer outcomes cast to the logits' float dtype)."""

import pyro
import pyro.distributions as dist


def model(data):
    n, d = data["X"].shape
    alpha = pyro.sample("alpha", dist.Normal(0.0, 2.5))
    with pyro.plate("D", d):
        beta = pyro.sample("beta", dist.Normal(0.0, 1.0))
    logits = alpha + data["X"] @ beta
    with pyro.plate("N", n):
        pyro.sample("y", dist.Bernoulli(logits=logits), obs=data["y"].to(logits.dtype))
