"""Stochastic volatility, non-centred, in PyMC: the AR(1) recursion of the deviations h - mu as a scan
(the Stan program's order of operations, see ``model.log_volatility``)."""

import pymc as pm
import pytensor
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        mu = pm.Cauchy("mu", 0.0, 10.0)
        phi = pm.Uniform("phi", -1.0, 1.0)
        sigma = pm.HalfCauchy("sigma", 5.0)
        h_std = pm.Normal("h_std", 0.0, 1.0, shape=data["T"])
        a0 = h_std[0] * sigma / pt.sqrt(1.0 - phi * phi)

        def step(h_std_t, a_prev, phi, sigma):
            return h_std_t * sigma + phi * a_prev

        # the parameters enter the scan as non-sequences, so PyMC can replace them by their values
        rest = pytensor.scan(step, sequences=[h_std[1:]], outputs_info=[a0], non_sequences=[phi, sigma],
                             n_steps=int(data["T"]) - 1, return_updates=False)  # a fixed length: PyTensor's JAX backend needs it static
        h = pt.concatenate([pt.atleast_1d(a0), rest]) + mu
        pm.Normal("y", 0.0, pt.exp(h / 2.0), observed=y)
    return model
