"""Log earnings on height in PyMC: flat priors (pm.Flat, pm.HalfFlat); the log taken of the data container."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        earn = pm.Data("earn_data", data["earn"])
        height = pm.Data("height_data", data["height"])
        beta = pm.Flat("beta", shape=2)
        sigma = pm.HalfFlat("sigma")
        pm.Normal("log_earn", beta[0] + beta[1] * height, sigma, observed=pt.log(earn))
    return model
