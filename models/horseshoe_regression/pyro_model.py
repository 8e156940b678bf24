"""Linear regression with the regularised horseshoe, in Pyro (half-Cauchy local and global scales)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    X, half_df = data["X"], 0.5 * float(data["slab_df"])
    beta0 = pyro.sample("beta0", dist.Normal(0.0, float(data["scale_icept"])))
    tau = pyro.sample("tau", dist.HalfCauchy(float(data["scale_global"])))
    caux = pyro.sample("caux", dist.InverseGamma(half_df, half_df))
    sigma = pyro.sample("sigma", dist.Exponential(1.0))
    with pyro.plate("D", X.shape[1]):
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        lam = pyro.sample("lambda", dist.HalfCauchy(1.0))
    c2 = (float(data["slab_scale"]) * torch.sqrt(caux)) ** 2
    lambda_tilde = torch.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    beta = z * lambda_tilde * tau
    with pyro.plate("N", X.shape[0]):
        pyro.sample("y", dist.Normal(beta0 + X @ beta, sigma), obs=data["y"])
