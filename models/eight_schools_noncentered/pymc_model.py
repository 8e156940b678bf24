"""Eight Schools, non-centred, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        sigma = pm.Data("sigma_data", data["sigma"])
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_trans = pm.Normal("theta_trans", 0.0, 1.0, shape=data["J"])
        pm.Normal("y", mu + tau * theta_trans, sigma, observed=y)
    return model
