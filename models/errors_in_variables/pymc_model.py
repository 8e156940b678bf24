"""Errors in variables, in PyMC (likelihood as pm.Potential)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        x_noise_lvl = pm.LogNormal("x_noise_lvl", -1.0, 0.5)
        w_noise_lvl = pm.LogNormal("w_noise_lvl", -1.5, 0.5)
        w_noise = pm.Normal("w_noise", 0.0, 1.0, shape=data["M"])
        w_ = data["w"] * (1.0 + w_noise * w_noise_lvl)
        loc = pm.math.dot(data["x"].T, w_)
        scale = x_noise_lvl * pm.math.abs(pm.math.sum(w_))
        pm.Potential("loglik", pm.logp(pm.Normal.dist(loc, scale), data["y"]).sum())
    return model
