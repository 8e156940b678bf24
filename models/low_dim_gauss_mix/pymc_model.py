"""Two-component Gaussian mixture in PyMC: ordered means (PyMC's ordered transform)."""

import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import ordered


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        mu = pm.Normal("mu", 0.0, 2.0, shape=2, transform=ordered, initval=[-1.0, 1.0])
        sigma = pm.HalfNormal("sigma", 2.0, shape=2)
        theta = pm.Beta("theta", 5.0, 5.0)
        a = pt.log(theta) + pm.logp(pm.Normal.dist(mu[0], sigma[0]), y)
        b = pt.log1p(-theta) + pm.logp(pm.Normal.dist(mu[1], sigma[1]), y)
        pm.Potential("y", pt.logsumexp(pt.stack([a, b]), axis=0).sum())
    return model
