"""Pilots in PyMC: the scales' flat priors on (0, 100) are Uniform(0, 100)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        group_id = pm.Data("group_id_data", data["group_id"])
        scenario_id = pm.Data("scenario_id_data", data["scenario_id"])
        mu_a = pm.Normal("mu_a", 0.0, 1.0)
        mu_b = pm.Normal("mu_b", 0.0, 1.0)
        sigma_a = pm.Uniform("sigma_a", 0.0, 100.0)
        sigma_b = pm.Uniform("sigma_b", 0.0, 100.0)
        sigma_y = pm.Uniform("sigma_y", 0.0, 100.0)
        a = pm.Normal("a", 10.0 * mu_a, sigma_a, shape=data["n_groups"])
        b = pm.Normal("b", 10.0 * mu_b, sigma_b, shape=data["n_scenarios"])
        pm.Normal("y", a[group_id] + b[scenario_id], sigma_y, observed=y)
    return model
