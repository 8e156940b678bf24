"""Kilpisjarvi linear trend in PyMC: normal priors with data hyperparameters, flat sigma (pm.HalfFlat)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        y = pm.Data("y_data", data["y"])
        alpha = pm.Normal("alpha", data["pmualpha"], data["psalpha"])
        beta = pm.Normal("beta", data["pmubeta"], data["psbeta"])
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", alpha + beta * x, sigma, observed=y)
    return model
