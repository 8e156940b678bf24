"""An ill-conditioned Gaussian in Pyro (MultivariateNormal given the Cholesky factor of its covariance)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    L = data["L"]
    pyro.sample("x", dist.MultivariateNormal(torch.zeros(data["D"], dtype=L.dtype), scale_tril=L))
