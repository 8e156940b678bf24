"""Proper CAR disease mapping in Pyro (which has no CAR distribution).

phi's distribution is ``ProperCAR`` (below): the exact CAR log density written with the precomputed
eigenvalues (as the Stan program), exact draws through a Cholesky of the precision; the counts are cast to
the rates' float dtype."""

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.distributions.torch_distribution import TorchDistribution


class ProperCAR(TorchDistribution):
    """phi ~ MVN(0, [tau (D - alpha W)]^-1), D = diag(d); ``lam`` the eigenvalues of D^-1/2 W D^-1/2."""

    arg_constraints = {}
    support = constraints.real_vector

    def __init__(self, tau, alpha, W, d, lam, validate_args=None):
        self.tau, self.alpha, self.W, self.d, self.lam = tau, alpha, W, d, lam
        super().__init__(torch.Size(), d.shape, validate_args=validate_args)

    def sample(self, sample_shape=()):
        with torch.no_grad():
            chol = torch.linalg.cholesky(self.tau * (torch.diag(self.d) - self.alpha * self.W))
            z = torch.randn(torch.Size(sample_shape) + self.event_shape, dtype=self.d.dtype)
            return torch.linalg.solve_triangular(chol.mT, z.unsqueeze(-1), upper=True).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.event_shape[0]
        quad = torch.sum(self.d * value * value, -1) - self.alpha * torch.sum(value * (value @ self.W), -1)
        return 0.5 * (n * torch.log(self.tau) + torch.sum(torch.log1p(-self.alpha * self.lam))
                      + torch.sum(torch.log(self.d)) - self.tau * quad - n * math.log(2.0 * math.pi))


def model(data):
    beta1 = pyro.sample("beta1", dist.Normal(0.0, 1.0))
    tau = pyro.sample("tau", dist.Gamma(2.0, 2.0))
    alpha = pyro.sample("alpha", dist.Uniform(0.0, 1.0))
    phi = pyro.sample("phi", ProperCAR(tau, alpha, data["W"], data["d"], data["lambda"]))
    rate = torch.exp(torch.log(data["E"]) + beta1 * data["x"] + phi)
    with pyro.plate("N", data["N"]):
        pyro.sample("y", dist.Poisson(rate), obs=data["y"].to(rate.dtype))
