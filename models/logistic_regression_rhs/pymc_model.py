"""Logistic regression with the regularised horseshoe, in PyMC (half-t priors as HalfStudentT)."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    d, half_df = data["d"], 0.5 * data["slab_df"]
    with pm.Model() as model:
        x = pm.Data("x_data", data["x"])
        y = pm.Data("y_data", data["y"])
        scale_global = pm.Data("scale_global_data", data["scale_global"])
        beta0 = pm.Normal("beta0", 0.0, data["scale_icept"])
        z = pm.Normal("z", 0.0, 1.0, shape=d)
        tau = pm.HalfStudentT("tau", nu=data["nu_global"], sigma=2.0 * scale_global)
        lam = pm.HalfStudentT("lambda", nu=data["nu_local"], sigma=1.0, shape=d)
        caux = pm.InverseGamma("caux", alpha=half_df, beta=half_df)
        c2 = (data["slab_scale"] * pt.sqrt(caux)) ** 2
        lambda_tilde = pt.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
        beta = z * lambda_tilde * tau
        pm.Bernoulli("y", logit_p=beta0 + pt.dot(x, beta), observed=y)
    return model
