"""Two-state HMM in PyMC: flat simplexes, positive-ordered means (log then ordered transform), the
forward algorithm as a scan."""

import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.transforms import Chain, log, ordered


def build(data) -> pm.Model:
    k = data["K"]
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        theta1 = pm.Dirichlet("theta1", pt.ones(k))
        theta2 = pm.Dirichlet("theta2", pt.ones(k))
        mu = pm.Flat("mu", shape=k, transform=Chain([log, ordered]), initval=[3.0, 10.0])
        pm.Potential("mu_prior", pm.logp(pm.Normal.dist(3.0, 1.0), mu[0]) + pm.logp(pm.Normal.dist(10.0, 1.0), mu[1]))
        log_theta = pt.log(pt.stack([theta1, theta2]))  # [from, to]

        def step(y_t, gamma, log_theta, mu):
            return pt.logsumexp(gamma[:, None] + log_theta, axis=0) + pm.logp(pm.Normal.dist(mu, 1.0), y_t)

        gammas = pytensor.scan(step, sequences=[y[1:]], outputs_info=[pm.logp(pm.Normal.dist(mu, 1.0), y[0])],
                               non_sequences=[log_theta, mu], n_steps=len(data["y"]) - 1,
                               return_updates=False)  # a fixed length: PyTensor's JAX backend needs it static
        pm.Potential("y", pt.logsumexp(gammas[-1]))
    return model
