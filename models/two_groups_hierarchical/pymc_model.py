"""Two groups, partial pooling, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        group = pm.Data("group_data", data["group"])
        mu_glob = pm.Normal("mu_glob", 1.0, 0.1)
        mu = pm.Normal("mu", mu_glob, 0.1, shape=2)
        pm.Normal("x", mu[group], 1.0, observed=x)
    return model
