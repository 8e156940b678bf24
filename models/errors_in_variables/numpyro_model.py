"""Errors in variables, in NumPyro (likelihood as numpyro.factor)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    x_noise_lvl = numpyro.sample("x_noise_lvl", dist.LogNormal(-1.0, 0.5))
    w_noise_lvl = numpyro.sample("w_noise_lvl", dist.LogNormal(-1.5, 0.5))
    with numpyro.plate("M", data["w"].shape[0]):
        w_noise = numpyro.sample("w_noise", dist.Normal(0.0, 1.0))
    w_ = data["w"] * (1.0 + w_noise * w_noise_lvl)
    loc = data["x"].T @ w_
    scale = x_noise_lvl * jnp.abs(jnp.sum(w_))
    numpyro.factor("loglik", dist.Normal(loc, scale).log_prob(data["y"]).sum())
