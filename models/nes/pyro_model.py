"""NES party identification in Pyro: flat priors (improper uniforms); age indicators from age_discrete."""

import pyro
import pyro.distributions as dist
from pyro.distributions import constraints


def model(data):
    y, age = data["partyid7"], data["age_discrete"]
    age30_44, age45_64, age65up = ((age == k).to(y.dtype) for k in (2, 3, 4))
    beta = pyro.sample("beta", dist.ImproperUniform(constraints.real, (), (9,)))
    sigma = pyro.sample("sigma", dist.ImproperUniform(constraints.positive, (), ()))
    mu = (beta[0] + beta[1] * data["real_ideo"] + beta[2] * data["race_adj"] + beta[3] * age30_44
          + beta[4] * age45_64 + beta[5] * age65up + beta[6] * data["educ1"] + beta[7] * data["gender"]
          + beta[8] * data["income"])
    with pyro.plate("N", y.shape[0]):
        pyro.sample("partyid7", dist.Normal(mu, sigma), obs=y)
