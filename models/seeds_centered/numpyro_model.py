"""Seeds, centred plate effects, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    x1, x2 = data["x1"], data["x2"]
    alpha0 = numpyro.sample("alpha0", dist.Normal(0.0, 1.0))
    alpha1 = numpyro.sample("alpha1", dist.Normal(0.0, 1.0))
    alpha12 = numpyro.sample("alpha12", dist.Normal(0.0, 1.0))
    alpha2 = numpyro.sample("alpha2", dist.Normal(0.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(1.0))
    with numpyro.plate("I", data["I"]):
        c = numpyro.sample("c", dist.Normal(0.0, sigma))
        b = c - c.mean()
        logits = alpha0 + alpha1 * x1 + alpha2 * x2 + alpha12 * (x1 * x2) + b
        numpyro.sample("n", dist.Binomial(total_count=data["N"], logits=logits), obs=data["n"])
