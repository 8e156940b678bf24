"""Two groups, partial pooling, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu_glob = numpyro.sample("mu_glob", dist.Normal(1.0, 0.1))
    with numpyro.plate("G", 2):
        mu = numpyro.sample("mu", dist.Normal(mu_glob, 0.1))
    with numpyro.plate("N", data["x"].shape[0]):
        numpyro.sample("x", dist.Normal(mu[data["group"]], 1.0), obs=data["x"])
