"""Kid's score on mom's IQ in Pyro: flat coefficients (an improper uniform on the real line)."""

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints


def model(data):
    kid_score, mom_iq = data["kid_score"], data["mom_iq"]
    beta = pyro.sample("beta", dist.ImproperUniform(constraints.real, (), (2,)))
    sigma = pyro.sample("sigma", dist.HalfCauchy(torch.tensor(2.5)))
    with pyro.plate("N", kid_score.shape[0]):
        pyro.sample("kid_score", dist.Normal(beta[0] + beta[1] * mom_iq, sigma), obs=kid_score)
