"""Kid's score on mom's IQ in NumPyro: flat coefficients (an improper uniform on the real line)."""

import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    kid_score, mom_iq = data["kid_score"], data["mom_iq"]
    beta = numpyro.sample("beta", dist.ImproperUniform(constraints.real, (), (2,)))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
    with numpyro.plate("N", kid_score.shape[0]):
        numpyro.sample("kid_score", dist.Normal(beta[0] + beta[1] * mom_iq, sigma), obs=kid_score)
