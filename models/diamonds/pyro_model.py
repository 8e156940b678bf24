"""Diamonds (brms) in Pyro: the half-t on sigma is the Student-t folded at 0 (normalised on sigma > 0,
as brms' lccdf term makes Stan's)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    Xc, Y = data["Xc"], data["Y"]
    b = pyro.sample("b", dist.Normal(0.0, 1.0).expand([int(data["Kc"])]).to_event(1))
    intercept = pyro.sample("Intercept", dist.StudentT(3.0, 8.0, 10.0))
    zero, ten = torch.zeros((), dtype=Y.dtype), torch.full((), 10.0, dtype=Y.dtype)
    sigma = pyro.sample("sigma", dist.FoldedDistribution(dist.StudentT(3.0, zero, ten)))
    if not data["prior_only"]:
        with pyro.plate("N", Y.shape[0]):
            pyro.sample("Y", dist.Normal(intercept + Xc @ b, sigma), obs=Y)
