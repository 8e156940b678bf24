"""Eight Schools, centred, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=data["J"])
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model
