"""Errors in variables, in PyMC (likelihood as pm.Potential)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        w = pm.Data("w_data", data["w"])
        x = pm.Data("x_data", data["x"])
        y = pm.Data("y_data", data["y"])
        x_noise_lvl = pm.LogNormal("x_noise_lvl", -1.0, 0.5)
        w_noise_lvl = pm.LogNormal("w_noise_lvl", -1.5, 0.5)
        w_noise = pm.Normal("w_noise", 0.0, 1.0, shape=data["M"])
        w_ = w * (1.0 + w_noise * w_noise_lvl)
        loc = pm.math.dot(x.T, w_)
        scale = x_noise_lvl * pm.math.abs(pm.math.sum(w_))
        pm.Potential("loglik", pm.logp(pm.Normal.dist(loc, scale), y).sum())
    return model
