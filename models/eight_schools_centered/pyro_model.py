"""Eight Schools, centred, in Pyro."""

import pyro
import pyro.distributions as dist


def model(data):
    mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(5.0))
    with pyro.plate("J", data["sigma"].shape[0]):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, data["sigma"]), obs=data["y"])
