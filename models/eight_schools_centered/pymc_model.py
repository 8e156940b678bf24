"""Eight Schools, centred, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        sigma = pm.Data("sigma_data", data["sigma"])
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=data["J"])
        pm.Normal("y", theta, sigma, observed=y)
    return model
