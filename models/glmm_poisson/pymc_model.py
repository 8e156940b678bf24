"""Poisson GLMM in PyMC. beta2 (declared on (-10, 20), given uniform(-10, 10) in Stan) is a
Uniform(-10, 10), whose log density is -inf above 10 as Stan's, with Stan's unconstraining transform of
(-10, 20)."""

import pymc as pm
from pymc.distributions.transforms import Interval


def build(data) -> pm.Model:
    with pm.Model() as model:
        counts = pm.Data("C_data", data["C"])
        year = pm.Data("year_data", data["year"])
        alpha = pm.Uniform("alpha", -20.0, 20.0)
        beta1 = pm.Uniform("beta1", -10.0, 10.0)
        beta2 = pm.Uniform("beta2", -10.0, 10.0, default_transform=Interval(-10.0, 20.0))
        beta3 = pm.Uniform("beta3", -10.0, 10.0)
        sigma = pm.Uniform("sigma", 0.0, 5.0)
        eps = pm.Normal("eps", 0.0, sigma, shape=data["n"])
        log_lambda = alpha + beta1 * year + beta2 * (year * year) + beta3 * (year * year * year) + eps
        pm.Poisson("C", mu=pm.math.exp(log_lambda), observed=counts)
    return model
