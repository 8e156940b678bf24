"""Log mesquite regression in PyMC: flat priors (pm.Flat, pm.HalfFlat); the logs taken of the data containers."""

import pymc as pm
import pytensor.tensor as pt

PREDICTORS = ("diam1", "diam2", "canopy_height", "total_height", "density")


def build(data) -> pm.Model:
    with pm.Model() as model:
        weight = pm.Data("weight_data", data["weight"])
        logs = [pt.log(pm.Data(f"{k}_data", data[k])) for k in PREDICTORS]
        group = pm.Data("group_data", data["group"])
        beta = pm.Flat("beta", shape=7)
        sigma = pm.HalfFlat("sigma")
        mu = beta[0] + sum(beta[i + 1] * x for i, x in enumerate(logs)) + beta[6] * group
        pm.Normal("log_weight", mu, sigma, observed=pt.log(weight))
    return model
