"""ARMA(1, 1) in PyMC: the error recursion as a scan (parameters as non-sequences); the errors enter
as a Potential (they are a function of the observed y, not a distribution of their own)."""

import pymc as pm
import pytensor
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        mu = pm.Normal("mu", 0.0, 10.0)
        phi = pm.Normal("phi", 0.0, 2.0)
        theta = pm.Normal("theta", 0.0, 2.0)
        sigma = pm.HalfCauchy("sigma", 2.5)

        def step(y_t, y_prev, err_prev, mu, phi, theta):
            return y_t - (mu + phi * y_prev + theta * err_prev)

        err1 = y[0] - (mu + phi * mu)
        rest = pytensor.scan(step, sequences=[y[1:], y[:-1]], outputs_info=[err1],
                             non_sequences=[mu, phi, theta], n_steps=len(data["y"]) - 1,
                             return_updates=False)  # a fixed length: PyTensor's JAX backend needs it static
        err = pt.concatenate([pt.atleast_1d(err1), rest])
        pm.Potential("err", pm.logp(pm.Normal.dist(0.0, sigma), err).sum())
    return model
