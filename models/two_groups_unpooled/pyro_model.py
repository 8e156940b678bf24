"""Two groups, no pooling, in Pyro."""

import pyro
import pyro.distributions as dist


def model(data):
    with pyro.plate("G", 2):
        mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("N", data["x"].shape[0]):
        pyro.sample("x", dist.Normal(mu[data["group"]], 1.0), obs=data["x"])
