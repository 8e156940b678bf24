"""Kid's score on mom's IQ in PyMC: flat coefficients (pm.Flat)."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        kid_score = pm.Data("kid_score_data", data["kid_score"])
        mom_iq = pm.Data("mom_iq_data", data["mom_iq"])
        beta = pm.Flat("beta", shape=2)
        sigma = pm.HalfCauchy("sigma", 2.5)
        pm.Normal("kid_score", beta[0] + beta[1] * mom_iq, sigma, observed=kid_score)
    return model
