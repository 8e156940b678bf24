"""Test scores of students in 20 schools: a varying-intercept regression on (centred) hours of study."""

import numpy as np
import pymc as pm


def build(data):
    """The model for a data dict with columns school_id (0-based), hours and score."""
    n_schools = int(np.max(data["school_id"])) + 1
    with pm.Model() as model:
        school = pm.Data("school_id_data", data["school_id"])
        hours = pm.Data("hours_data", data["hours"])
        score = pm.Data("score_data", data["score"])
        mu_a = pm.Normal("mu_a", 60.0, 20.0)
        sigma_a = pm.HalfNormal("sigma_a", 10.0)
        a = pm.Normal("a", mu_a, sigma_a, shape=n_schools)
        b = pm.Normal("b", 0.0, 5.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        mu = a[school] + b * (hours - hours.mean())
        pm.Normal("score", mu, sigma, observed=score)
    return model
