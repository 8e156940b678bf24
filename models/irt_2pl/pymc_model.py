"""Two-parameter logistic IRT, in PyMC."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        sigma_theta = pm.HalfCauchy("sigma_theta", 2.0)
        theta = pm.Normal("theta", 0.0, sigma_theta, shape=data["J"])
        sigma_a = pm.HalfCauchy("sigma_a", 2.0)
        a = pm.LogNormal("a", 0.0, sigma_a, shape=data["I"])
        mu_b = pm.Normal("mu_b", 0.0, 5.0)
        sigma_b = pm.HalfCauchy("sigma_b", 2.0)
        b = pm.Normal("b", mu_b, sigma_b, shape=data["I"])
        pm.Bernoulli("y", logit_p=a[:, None] * (theta[None, :] - b[:, None]), observed=y)
    return model
