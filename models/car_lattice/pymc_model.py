"""Proper CAR disease mapping in PyMC.

phi is a ``pm.CustomDist`` whose log density is the exact CAR density written with the precomputed
eigenvalues (as the Stan program) and whose draws are exact (a Cholesky of the precision). Not ``pm.CAR``:
its log density is right (up to a constant) but its forward sampler (PyMC 6.4, ``CARRV.rng_fn``) solves
Q x = z with the full Cholesky, which draws from N(mu, Q^-2) instead of N(mu, Q^-1) (checked empirically:
the draws' variances are diag(Q^-2)), so prior draws and SBC would be wrong.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import linalg


def car_logp(value, tau, alpha, W, d, lam):
    n = value.shape[-1]
    quad = pt.sum(d * value * value, axis=-1) - alpha * pt.sum(value * pt.dot(value, W), axis=-1)
    return 0.5 * (n * pt.log(tau) + pt.sum(pt.log1p(-alpha * lam)) + pt.sum(pt.log(d)) - tau * quad
                  - n * np.log(2.0 * np.pi))


def car_random(tau, alpha, W, d, lam, rng=None, size=None):
    """Exact draws: with Q = tau (D - alpha W) = L L', phi = L'^-1 z, z ~ N(0, I)."""
    chol = linalg.cholesky(float(tau) * (np.diag(d) - float(alpha) * W), lower=True)
    size = () if size is None else tuple(np.atleast_1d(size).astype(int))
    z = rng.normal(size=size + (d.shape[-1],))
    return linalg.solve_triangular(chol, z.reshape(-1, d.shape[-1]).T, lower=True, trans="T").T.reshape(z.shape)


def build(data) -> pm.Model:
    with pm.Model() as model:
        W = pm.Data("W_data", data["W"])
        d = pm.Data("d_data", data["d"])
        lam = pm.Data("lambda_data", data["lambda"])
        log_E = pt.log(pm.Data("E_data", data["E"]))
        x = pm.Data("x_data", data["x"])
        y = pm.Data("y_data", data["y"])
        beta1 = pm.Normal("beta1", 0.0, 1.0)
        tau = pm.Gamma("tau", alpha=2.0, beta=2.0)
        alpha = pm.Uniform("alpha", 0.0, 1.0)
        phi = pm.CustomDist("phi", tau, alpha, W, d, lam, logp=car_logp, random=car_random,
                            support_point=lambda rv, size, *args: pt.zeros_like(rv),
                            signature="(),(),(n,n),(n),(n)->(n)")
        pm.Poisson("y", mu=pt.exp(log_E + beta1 * x + phi), observed=y)
    return model
