"""GARCH(1,1) in PyMC: flat priors (beta1's density on (0, 1 - alpha1) is flat: the Uniform's
-log(1 - alpha1) is added back); the scale recursion as a scan."""

import pymc as pm
import pytensor
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"], shape=(len(data["y"]),))  # static: PyMC 5's JAX backend needs static slices
        sigma1 = pm.Data("sigma1_data", data["sigma1"])
        mu = pm.Flat("mu")
        alpha0 = pm.HalfFlat("alpha0")
        alpha1 = pm.Uniform("alpha1", 0.0, 1.0)
        beta1 = pm.Uniform("beta1", 0.0, 1.0 - alpha1)
        pm.Potential("beta1_flat", pt.log(1.0 - alpha1))  # Stan's beta1 has no prior term

        def step(y_prev, sigma_prev, mu, alpha0, alpha1, beta1):
            return pt.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev ** 2)

        # the parameters enter the scan as non-sequences, so PyMC can replace them by their values
        rest = pytensor.scan(step, sequences=[y[:-1]], outputs_info=[sigma1],
                             non_sequences=[mu, alpha0, alpha1, beta1], n_steps=len(data["y"]) - 1,
                             return_updates=False)  # a fixed length: PyTensor's JAX backend needs it static
        sigma = pt.concatenate([pt.atleast_1d(sigma1), rest])
        pm.Normal("y", mu, sigma, observed=y)
    return model
