"""Two groups, partial pooling, in Pyro."""

import pyro
import pyro.distributions as dist


def model(data):
    mu_glob = pyro.sample("mu_glob", dist.Normal(1.0, 0.1))
    with pyro.plate("G", 2):
        mu = pyro.sample("mu", dist.Normal(mu_glob, 0.1))
    with pyro.plate("N", data["x"].shape[0]):
        pyro.sample("x", dist.Normal(mu[data["group"]], 1.0), obs=data["x"])
