"""Hierarchical 2PL IRT in Pyro. The bivariate normal of (xi1[i], xi2[i]) is written as its exact
factorisation xi1 ~ N(mu[0], tau[0]), xi2 | xi1 ~ N(mu[1] + tau[1] L[1,0] z, tau[1] L[1,1]) with
z = (xi1 - mu[0]) / tau[0] (the same density as multi_normal_cholesky with diag(tau) L_Omega).
Integer responses are cast to the logits' float dtype."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    n_items, n_persons = data["I"], data["J"]
    theta = pyro.sample("theta", dist.Normal(0.0, 1.0).expand([n_persons]).to_event(1))
    mu = pyro.sample("mu", dist.Normal(torch.zeros(2), torch.tensor([1.0, 5.0])).to_event(1))
    tau = pyro.sample("tau", dist.Exponential(torch.tensor(0.1)).expand([2]).to_event(1))
    L = pyro.sample("L_Omega", dist.LKJCholesky(2, concentration=torch.tensor(4.0)))
    xi1 = pyro.sample("xi1", dist.Normal(mu[0], tau[0]).expand([n_items]).to_event(1))
    z = (xi1 - mu[0]) / tau[0]
    xi2 = pyro.sample("xi2", dist.Normal(mu[1] + tau[1] * L[1, 0] * z, tau[1] * L[1, 1]).to_event(1))
    ii, jj = data["ii"], data["jj"]
    logits = torch.exp(xi1)[ii] * (theta[jj] - xi2[ii])
    pyro.sample("y", dist.Bernoulli(logits=logits).to_event(1), obs=data["y"].to(logits.dtype))
