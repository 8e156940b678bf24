"""Radon, varying intercept and floor slope, non-centred, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        county = pm.Data("county_idx_data", data["county_idx"])
        floor = pm.Data("floor_measure_data", data["floor_measure"])
        log_radon = pm.Data("log_radon_data", data["log_radon"])
        sigma_y = pm.HalfNormal("sigma_y", 1.0)
        sigma_alpha = pm.HalfNormal("sigma_alpha", 1.0)
        sigma_beta = pm.HalfNormal("sigma_beta", 1.0)
        alpha_raw = pm.Normal("alpha_raw", 0.0, 1.0, shape=data["J"])
        beta_raw = pm.Normal("beta_raw", 0.0, 1.0, shape=data["J"])
        mu_alpha = pm.Normal("mu_alpha", 0.0, 10.0)
        mu_beta = pm.Normal("mu_beta", 0.0, 10.0)
        alpha = mu_alpha + sigma_alpha * alpha_raw
        beta = mu_beta + sigma_beta * beta_raw
        pm.Normal("log_radon", alpha[county] + floor * beta[county], sigma_y, observed=log_radon)
    return model
