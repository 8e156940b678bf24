"""Logistic regression with the regularised horseshoe, in Pyro (half-t priors as folded Student-t;
integer outcomes cast to the logits' float dtype)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    x, half_df = data["x"], 0.5 * data["slab_df"]
    beta0 = pyro.sample("beta0", dist.Normal(0.0, float(data["scale_icept"])))
    tau = pyro.sample("tau", dist.FoldedDistribution(
        dist.StudentT(float(data["nu_global"]), 0.0, 2.0 * data["scale_global"])))
    caux = pyro.sample("caux", dist.InverseGamma(half_df, half_df))
    with pyro.plate("d", x.shape[1]):
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        lam = pyro.sample("lambda", dist.FoldedDistribution(dist.StudentT(float(data["nu_local"]), 0.0, 1.0)))
    c2 = (data["slab_scale"] * torch.sqrt(caux)) ** 2
    lambda_tilde = torch.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    beta = z * lambda_tilde * tau
    logits = beta0 + x @ beta
    with pyro.plate("n", x.shape[0]):
        pyro.sample("y", dist.Bernoulli(logits=logits), obs=data["y"].to(logits.dtype))
