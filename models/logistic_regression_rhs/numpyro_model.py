"""Logistic regression with the regularised horseshoe, in NumPyro (half-t priors as folded Student-t)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    x, half_df = data["x"], 0.5 * data["slab_df"]
    beta0 = numpyro.sample("beta0", dist.Normal(0.0, data["scale_icept"]))
    tau = numpyro.sample("tau", dist.FoldedDistribution(dist.StudentT(data["nu_global"], 0.0, 2.0 * data["scale_global"])))
    caux = numpyro.sample("caux", dist.InverseGamma(half_df, half_df))
    with numpyro.plate("d", x.shape[1]):
        z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        lam = numpyro.sample("lambda", dist.FoldedDistribution(dist.StudentT(data["nu_local"], 0.0, 1.0)))
    c2 = (data["slab_scale"] * jnp.sqrt(caux)) ** 2
    lambda_tilde = jnp.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    beta = z * lambda_tilde * tau
    with numpyro.plate("n", x.shape[0]):
        numpyro.sample("y", dist.Bernoulli(logits=beta0 + x @ beta), obs=data["y"])
