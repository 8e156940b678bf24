"""Linear regression with the regularised horseshoe, in PyMC (half-Cauchy local and global scales)."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    d, half_df = data["D"], 0.5 * data["slab_df"]
    with pm.Model() as model:
        X = pm.Data("X_data", data["X"])
        y = pm.Data("y_data", data["y"])
        beta0 = pm.Normal("beta0", 0.0, data["scale_icept"])
        z = pm.Normal("z", 0.0, 1.0, shape=d)
        tau = pm.HalfCauchy("tau", beta=data["scale_global"])
        lam = pm.HalfCauchy("lambda", beta=1.0, shape=d)
        caux = pm.InverseGamma("caux", alpha=half_df, beta=half_df)
        sigma = pm.Exponential("sigma", 1.0)
        c2 = (data["slab_scale"] * pt.sqrt(caux)) ** 2
        lambda_tilde = pt.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
        beta = z * lambda_tilde * tau
        pm.Normal("y", beta0 + pt.dot(X, beta), sigma, observed=y)
    return model
