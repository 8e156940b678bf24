"""AR(K) in PyMC: the lagged design built from y by slicing (K is a Python int)."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    K, T = data["K"], len(data["y"])
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        alpha = pm.Normal("alpha", 0.0, 10.0)
        beta = pm.Normal("beta", 0.0, 10.0, shape=K)
        sigma = pm.HalfCauchy("sigma", 2.5)
        lagged = pt.stack([y[K - k - 1:T - k - 1] for k in range(K)], axis=1)
        pm.Normal("y", alpha + pt.dot(lagged, beta), sigma, observed=y[K:])
    return model
