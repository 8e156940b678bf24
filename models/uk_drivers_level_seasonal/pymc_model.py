"""Stochastic level + stochastic seasonal in PyMC: mu uniform on its data-dependent interval (the
uniform's density is a constant there, as Stan's flat prior), seasonal, beta and lambda flat, sigma a
positive ordered vector (log then ordered transform) with its Student-t terms as a potential."""

import numpy as np
import pymc as pm
from pymc.distributions.transforms import Chain, log, ordered

PERIOD = 12


def build(data) -> pm.Model:
    n = data["n"]
    windows = (np.arange(PERIOD - 1, n)[:, None] - np.arange(PERIOD - 1, 0, -1)[None, :])  # (n - 11, 11)
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        x = pm.Data("x_data", data["x"])
        w = pm.Data("w_data", data["w"])
        mu_lower = pm.Data("mu_lower_data", data["mu_lower"])
        mu_upper = pm.Data("mu_upper_data", data["mu_upper"])
        mu = pm.Uniform("mu", mu_lower, mu_upper, shape=n)
        seasonal = pm.Flat("seasonal", shape=n)
        beta = pm.Flat("beta")
        lam = pm.Flat("lambda")
        sigma = pm.Flat("sigma", shape=3, transform=Chain([log, ordered]), initval=[0.1, 0.2, 0.3])
        pm.Potential("sigma_prior", pm.logp(pm.StudentT.dist(nu=4.0, mu=0.0, sigma=1.0), sigma).sum())
        pm.Potential("seasonal_prior",
                     pm.logp(pm.Normal.dist(-seasonal[windows].sum(axis=1), sigma[0]), seasonal[PERIOD - 1:]).sum())
        pm.Potential("mu_prior", pm.logp(pm.Normal.dist(mu[:-1], sigma[1]), mu[1:]).sum())
        yhat = mu + beta * x + lam * w
        pm.Normal("y", yhat + seasonal, sigma[2], observed=y)
    return model
