"""Two groups, no pooling, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    with numpyro.plate("G", 2):
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("N", data["x"].shape[0]):
        numpyro.sample("x", dist.Normal(mu[data["group"]], 1.0), obs=data["x"])
