"""AR(K) in Pyro: the lagged design built from y by slicing."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    y, K = data["y"], int(data["K"])
    T = y.shape[0]
    alpha = pyro.sample("alpha", dist.Normal(0.0, 10.0))
    beta = pyro.sample("beta", dist.Normal(0.0, 10.0).expand([K]).to_event(1))
    sigma = pyro.sample("sigma", dist.HalfCauchy(torch.tensor(2.5)))
    lagged = torch.stack([y[K - k - 1:T - k - 1] for k in range(K)], dim=1)
    with pyro.plate("T", T - K):
        pyro.sample("y", dist.Normal(alpha + lagged @ beta, sigma), obs=y[K:])
