"""Eight Schools, non-centred, flat tau prior, in Pyro."""

import pyro
import pyro.distributions as dist


def model(data):
    mu = pyro.sample("mu", dist.Normal(8.75, 20.0))
    tau = pyro.sample("tau", dist.Uniform(0.0, 100.0))
    with pyro.plate("J", data["sigma"].shape[0]):
        theta_trans = pyro.sample("theta_trans", dist.Normal(0.0, 1.0))
        pyro.sample("y", dist.Normal(mu + tau * theta_trans, data["sigma"]), obs=data["y"])
