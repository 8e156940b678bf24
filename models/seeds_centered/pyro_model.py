"""Seeds, centred plate effects, in Pyro (integer counts cast to the logits' float dtype)."""

import pyro
import pyro.distributions as dist


def model(data):
    x1, x2 = data["x1"], data["x2"]
    alpha0 = pyro.sample("alpha0", dist.Normal(0.0, 1.0))
    alpha1 = pyro.sample("alpha1", dist.Normal(0.0, 1.0))
    alpha12 = pyro.sample("alpha12", dist.Normal(0.0, 1.0))
    alpha2 = pyro.sample("alpha2", dist.Normal(0.0, 1.0))
    sigma = pyro.sample("sigma", dist.HalfCauchy(1.0))
    with pyro.plate("I", data["I"]):
        c = pyro.sample("c", dist.Normal(0.0, sigma))
        b = c - c.mean()
        logits = alpha0 + alpha1 * x1 + alpha2 * x2 + alpha12 * (x1 * x2) + b
        pyro.sample("n", dist.Binomial(total_count=data["N"].to(logits.dtype), logits=logits),
                    obs=data["n"].to(logits.dtype))
