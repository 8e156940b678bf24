"""Seeds, centred plate effects, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        n = pm.Data("n_data", data["n"])
        size = pm.Data("N_data", data["N"])
        x1 = pm.Data("x1_data", data["x1"])
        x2 = pm.Data("x2_data", data["x2"])
        alpha0 = pm.Normal("alpha0", 0.0, 1.0)
        alpha1 = pm.Normal("alpha1", 0.0, 1.0)
        alpha12 = pm.Normal("alpha12", 0.0, 1.0)
        alpha2 = pm.Normal("alpha2", 0.0, 1.0)
        sigma = pm.HalfCauchy("sigma", 1.0)
        c = pm.Normal("c", 0.0, sigma, shape=data["I"])
        b = c - c.mean()
        pm.Binomial("n", n=size, logit_p=alpha0 + alpha1 * x1 + alpha2 * x2 + alpha12 * (x1 * x2) + b, observed=n)
    return model
