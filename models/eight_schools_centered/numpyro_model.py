"""Eight Schools, centred, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", data["sigma"].shape[0]):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("y", dist.Normal(theta, data["sigma"]), obs=data["y"])
