"""Diamonds (brms) in NumPyro: the half-t on sigma is the Student-t folded at 0 (normalised on sigma > 0,
as brms' lccdf term makes Stan's)."""

import numpyro
import numpyro.distributions as dist


def model(data):
    Xc, Y = data["Xc"], data["Y"]
    b = numpyro.sample("b", dist.Normal(0.0, 1.0).expand([data["Kc"]]).to_event(1))
    intercept = numpyro.sample("Intercept", dist.StudentT(3.0, 8.0, 10.0))
    sigma = numpyro.sample("sigma", dist.FoldedDistribution(dist.StudentT(3.0, 0.0, 10.0)))
    if not data["prior_only"]:
        with numpyro.plate("N", Y.shape[0]):
            numpyro.sample("Y", dist.Normal(intercept + Xc @ b, sigma), obs=Y)
