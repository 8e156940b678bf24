"""Hierarchical 2PL IRT in NumPyro. The bivariate normal of (xi1[i], xi2[i]) is written as its exact
factorisation xi1 ~ N(mu[0], tau[0]), xi2 | xi1 ~ N(mu[1] + tau[1] L[1,0] z, tau[1] L[1,1]) with
z = (xi1 - mu[0]) / tau[0] (the same density as multi_normal_cholesky with diag(tau) L_Omega)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    n_items, n_persons = data["I"], data["J"]
    theta = numpyro.sample("theta", dist.Normal(0.0, 1.0).expand([n_persons]).to_event(1))
    mu = numpyro.sample("mu", dist.Normal(jnp.zeros(2), jnp.array([1.0, 5.0])).to_event(1))
    tau = numpyro.sample("tau", dist.Exponential(0.1).expand([2]).to_event(1))
    L = numpyro.sample("L_Omega", dist.LKJCholesky(2, concentration=4.0))
    xi1 = numpyro.sample("xi1", dist.Normal(mu[0], tau[0]).expand([n_items]).to_event(1))
    z = (xi1 - mu[0]) / tau[0]
    xi2 = numpyro.sample("xi2", dist.Normal(mu[1] + tau[1] * L[1, 0] * z, tau[1] * L[1, 1]).to_event(1))
    ii, jj = data["ii"], data["jj"]
    logits = jnp.exp(xi1)[ii] * (theta[jj] - xi2[ii])
    numpyro.sample("y", dist.Bernoulli(logits=logits).to_event(1), obs=data["y"])
