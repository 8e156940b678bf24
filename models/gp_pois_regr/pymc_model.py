"""Poisson GP regression in PyMC: f = L f_tilde, L the Cholesky factor of the exp-quad kernel + 1e-10 I."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    n = data["N"]
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        k = pm.Data("k_data", data["k"])
        rho = pm.Gamma("rho", alpha=25.0, beta=4.0)
        alpha = pm.HalfNormal("alpha", 2.0)
        f_tilde = pm.Normal("f_tilde", 0.0, 1.0, shape=n)
        d2 = (x[:, None] - x[None, :]) ** 2
        cov = alpha ** 2 * pt.exp(-0.5 * d2 / rho ** 2) + 1e-10 * pt.eye(n)
        f = pt.linalg.cholesky(cov) @ f_tilde
        pm.Poisson("k", mu=pt.exp(f), observed=k)
    return model
