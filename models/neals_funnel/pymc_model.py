"""Neal's funnel in PyMC."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pt.exp(v / 2.0), shape=data["N"])
    return model
