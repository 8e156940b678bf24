"""Radon, varying intercept, centred, all states, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        county = pm.Data("county_idx_data", data["county_idx"])
        floor = pm.Data("floor_measure_data", data["floor_measure"])
        log_radon = pm.Data("log_radon_data", data["log_radon"])
        mu_alpha = pm.Normal("mu_alpha", 0.0, 10.0)
        sigma_alpha = pm.HalfNormal("sigma_alpha", 1.0)
        alpha = pm.Normal("alpha", mu_alpha, sigma_alpha, shape=data["J"])
        beta = pm.Normal("beta", 0.0, 10.0)
        sigma_y = pm.HalfNormal("sigma_y", 1.0)
        pm.Normal("log_radon", alpha[county] + floor * beta, sigma_y, observed=log_radon)
    return model
