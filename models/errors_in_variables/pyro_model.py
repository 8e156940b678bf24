"""Errors in variables, in Pyro (likelihood as pyro.factor)."""

import pyro
import pyro.distributions as dist


def model(data):
    x_noise_lvl = pyro.sample("x_noise_lvl", dist.LogNormal(-1.0, 0.5))
    w_noise_lvl = pyro.sample("w_noise_lvl", dist.LogNormal(-1.5, 0.5))
    with pyro.plate("M", data["w"].shape[0]):
        w_noise = pyro.sample("w_noise", dist.Normal(0.0, 1.0))
    w_ = data["w"] * (1.0 + w_noise * w_noise_lvl)
    loc = data["x"].T @ w_
    scale = x_noise_lvl * w_.sum().abs()
    pyro.factor("loglik", dist.Normal(loc, scale).log_prob(data["y"]).sum())
