"""Stochastic volatility, non-centred, in Pyro. The AR(1) recursion of the deviations a = h - mu,
a[t] = phi a[t-1] + e[t], is computed without a Python loop over t (slow in Pyro): a = P e with the
lower-triangular P[t, k] = phi^(t - k), O(T^2) work in one matrix-vector product."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    y = data["y"]
    T = data["T"]
    mu = pyro.sample("mu", dist.Cauchy(0.0, 10.0))
    phi = pyro.sample("phi", dist.Uniform(-1.0, 1.0))
    sigma = pyro.sample("sigma", dist.HalfCauchy(5.0))
    h_std = pyro.sample("h_std", dist.Normal(0.0, 1.0).expand([T]).to_event(1))
    e = h_std * sigma
    e = torch.cat([e[:1] / torch.sqrt(1.0 - phi * phi), e[1:]])
    lags = torch.arange(T, dtype=y.dtype)
    lags = lags[:, None] - lags[None, :]  # t - k
    powers = torch.where(lags >= 0, phi ** lags.clamp(min=0.0), torch.zeros((), dtype=y.dtype))
    h = powers @ e + mu
    # no argument validation here: at prior draws from the Cauchy priors exp(h / 2) can overflow to inf or
    # underflow to 0, and the prior sampler (Predictive) must still return the parameters
    pyro.sample("y", dist.Normal(0.0, torch.exp(h / 2.0), validate_args=False).to_event(1), obs=y)
