"""Two groups, no pooling, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        group = pm.Data("group_data", data["group"])
        mu = pm.Normal("mu", 0.0, 10.0, shape=2)
        pm.Normal("x", mu[group], 1.0, observed=x)
    return model
