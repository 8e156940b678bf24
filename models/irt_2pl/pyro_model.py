"""Two-parameter logistic IRT, in Pyro (integer responses cast to the logits' float dtype)."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    n_items, n_persons = data["I"], data["J"]
    sigma_theta = pyro.sample("sigma_theta", dist.HalfCauchy(torch.tensor(2.0)))
    theta = pyro.sample("theta", dist.Normal(0.0, sigma_theta).expand([n_persons]).to_event(1))
    sigma_a = pyro.sample("sigma_a", dist.HalfCauchy(torch.tensor(2.0)))
    a = pyro.sample("a", dist.LogNormal(0.0, sigma_a).expand([n_items]).to_event(1))
    mu_b = pyro.sample("mu_b", dist.Normal(0.0, 5.0))
    sigma_b = pyro.sample("sigma_b", dist.HalfCauchy(torch.tensor(2.0)))
    b = pyro.sample("b", dist.Normal(mu_b, sigma_b).expand([n_items]).to_event(1))
    logits = a[:, None] * (theta[None, :] - b[:, None])
    pyro.sample("y", dist.Bernoulli(logits=logits).to_event(2), obs=data["y"].to(logits.dtype))
