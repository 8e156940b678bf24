"""Normal mean with known unit noise, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("K", data["x"].shape[0]):
        numpyro.sample("x", dist.Normal(mu, 1.0), obs=data["x"])
