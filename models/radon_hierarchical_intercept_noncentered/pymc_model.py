"""Radon, hierarchical intercept, non-centred, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        county = pm.Data("county_idx_data", data["county_idx"])
        log_uppm = pm.Data("log_uppm_data", data["log_uppm"])
        floor = pm.Data("floor_measure_data", data["floor_measure"])
        log_radon = pm.Data("log_radon_data", data["log_radon"])
        alpha_raw = pm.Normal("alpha_raw", 0.0, 1.0, shape=data["J"])
        beta = pm.Normal("beta", 0.0, 10.0, shape=2)
        mu_alpha = pm.Normal("mu_alpha", 0.0, 10.0)
        sigma_alpha = pm.HalfNormal("sigma_alpha", 1.0)
        sigma_y = pm.HalfNormal("sigma_y", 1.0)
        alpha = mu_alpha + sigma_alpha * alpha_raw
        mu = alpha[county] + log_uppm * beta[0] + floor * beta[1]
        pm.Normal("log_radon", mu, sigma_y, observed=log_radon)
    return model
