"""Two groups, no pooling, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0, shape=2)
        pm.Normal("x", mu[data["group"]], 1.0, observed=data["x"])
    return model
