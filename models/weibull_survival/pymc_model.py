"""Weibull survival regression with right censoring in PyMC: the events' Weibull log density and the
censored subjects' log survival function -(y / sigma)^alpha as one potential.

Not ``pm.Censored``: PyMC's Weibull has no log survival function, and Censored's fallback
log(1 - exp(logcdf)) with logcdf = log(1 - exp(-(y / sigma)^alpha)) rounds to -inf once
(y / sigma)^alpha exceeds about 37 (the equivalence check met it at a unit step in log alpha)."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        X = pm.Data("X_data", data["X"])
        y = pm.Data("y_data", data["y"])
        censored = pm.Data("censored_data", data["censored"])
        alpha = pm.LogNormal("alpha", 0.0, 0.5)
        intercept = pm.Normal("intercept", 0.0, 2.0)
        beta = pm.Normal("beta", 0.0, 1.0, shape=data["K"])
        sigma = pt.exp(intercept + X @ beta)
        log_event = pm.logp(pm.Weibull.dist(alpha=alpha, beta=sigma), y)
        log_survival = -((y / sigma) ** alpha)
        pm.Potential("y", pt.switch(pt.eq(censored, 1), log_survival, log_event).sum())
    return model
