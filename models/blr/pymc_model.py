"""Bayesian linear regression in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        X = pm.Data("X_data", data["X"])
        y = pm.Data("y_data", data["y"])
        beta = pm.Normal("beta", 0.0, 10.0, shape=data["D"])
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Normal("y", pm.math.dot(X, beta), sigma, observed=y)
    return model
