"""An ill-conditioned Gaussian in PyMC (MvNormal given the Cholesky factor of its covariance)."""

import numpy as np
import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        L = pm.Data("L_data", data["L"])
        pm.MvNormal("x", mu=np.zeros(data["D"]), chol=L)
    return model
