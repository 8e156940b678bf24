"""Two groups, complete pooling, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("x", mu, 1.0, observed=x)
    return model
