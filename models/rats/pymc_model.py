"""Rats in PyMC: the three scales' flat priors on (0, inf) are HalfFlat."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        x = pm.Data("x_data", data["x"])
        rat = pm.Data("rat_data", data["rat"])
        mu_alpha = pm.Normal("mu_alpha", 0.0, 100.0)
        mu_beta = pm.Normal("mu_beta", 0.0, 100.0)
        sigma_y = pm.HalfFlat("sigma_y")
        sigma_alpha = pm.HalfFlat("sigma_alpha")
        sigma_beta = pm.HalfFlat("sigma_beta")
        alpha = pm.Normal("alpha", mu_alpha, sigma_alpha, shape=data["N"])
        beta = pm.Normal("beta", mu_beta, sigma_beta, shape=data["N"])
        pm.Normal("y", alpha[rat] + beta[rat] * (x - data["xbar"]), sigma_y, observed=y)
    return model
