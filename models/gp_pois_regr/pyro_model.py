"""Poisson GP regression in Pyro: f = L f_tilde, L the Cholesky factor of the exp-quad kernel + 1e-10 I."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    x, k, n = data["x"], data["k"], data["N"]
    rho = pyro.sample("rho", dist.Gamma(25.0, 4.0))
    alpha = pyro.sample("alpha", dist.HalfNormal(torch.tensor(2.0)))
    f_tilde = pyro.sample("f_tilde", dist.Normal(0.0, 1.0).expand([n]).to_event(1))
    d2 = (x[:, None] - x[None, :]) ** 2
    cov = alpha ** 2 * torch.exp(-0.5 * d2 / rho ** 2) + 1e-10 * torch.eye(n, dtype=x.dtype)
    f = torch.linalg.cholesky(cov) @ f_tilde
    pyro.sample("k", dist.Poisson(torch.exp(f)).to_event(1), obs=k.to(f.dtype))
