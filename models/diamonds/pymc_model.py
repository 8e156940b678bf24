"""Diamonds (brms) in PyMC: the half-t on sigma is PyMC's HalfStudentT (normalised on sigma > 0, as
brms' lccdf term makes Stan's)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        Xc = pm.Data("Xc_data", data["Xc"])
        Y = pm.Data("Y_data", data["Y"])
        b = pm.Normal("b", 0.0, 1.0, shape=data["Kc"])
        intercept = pm.StudentT("Intercept", nu=3.0, mu=8.0, sigma=10.0)
        sigma = pm.HalfStudentT("sigma", nu=3.0, sigma=10.0)
        if not data["prior_only"]:
            pm.Normal("Y", intercept + pm.math.dot(Xc, b), sigma, observed=Y)
    return model
