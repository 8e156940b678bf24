"""Eight Schools, non-centred, flat tau prior, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu = numpyro.sample("mu", dist.Normal(8.75, 20.0))
    tau = numpyro.sample("tau", dist.Uniform(0.0, 100.0))
    with numpyro.plate("J", data["sigma"].shape[0]):
        theta_trans = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0))
        numpyro.sample("y", dist.Normal(mu + tau * theta_trans, data["sigma"]), obs=data["y"])
