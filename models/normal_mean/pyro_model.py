"""Normal mean with known unit noise, in Pyro."""

import pyro
import pyro.distributions as dist


def model(data):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("K", data["x"].shape[0]):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=data["x"])
