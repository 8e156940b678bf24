"""Logistic regression, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        X = pm.Data("X_data", data["X"])
        y = pm.Data("y_data", data["y"])
        alpha = pm.Normal("alpha", 0.0, 2.5)
        beta = pm.Normal("beta", 0.0, 1.0, shape=data["D"])
        pm.Bernoulli("y", logit_p=alpha + pm.math.dot(X, beta), observed=y)
    return model
