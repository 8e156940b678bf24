"""Linear regression with the regularised horseshoe, in NumPyro (half-Cauchy local and global scales)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist


def model(data):
    X, half_df = data["X"], 0.5 * data["slab_df"]
    beta0 = numpyro.sample("beta0", dist.Normal(0.0, data["scale_icept"]))
    tau = numpyro.sample("tau", dist.HalfCauchy(data["scale_global"]))
    caux = numpyro.sample("caux", dist.InverseGamma(half_df, half_df))
    sigma = numpyro.sample("sigma", dist.Exponential(1.0))
    with numpyro.plate("D", X.shape[1]):
        z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        lam = numpyro.sample("lambda", dist.HalfCauchy(1.0))
    c2 = (data["slab_scale"] * jnp.sqrt(caux)) ** 2
    lambda_tilde = jnp.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    beta = z * lambda_tilde * tau
    with numpyro.plate("N", X.shape[0]):
        numpyro.sample("y", dist.Normal(beta0 + X @ beta, sigma), obs=data["y"])
