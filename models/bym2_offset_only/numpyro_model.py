"""BYM2 (offset only) in NumPyro: phi an improper uniform, with the ICAR pairwise term and the soft
sum-to-zero constraint as factors."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints


def model(data):
    n = data["N"]
    beta0 = numpyro.sample("beta0", dist.Normal(0.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    rho = numpyro.sample("rho", dist.Beta(0.5, 0.5))
    with numpyro.plate("N", n):
        theta = numpyro.sample("theta", dist.Normal(0.0, 1.0))
    phi = numpyro.sample("phi", dist.ImproperUniform(constraints.real_vector, (), (n,)))
    numpyro.factor("phi_icar", -0.5 * jnp.sum(jnp.square(phi[data["node1"]] - phi[data["node2"]])))
    numpyro.factor("phi_sum", dist.Normal(0.0, 0.001 * n).log_prob(jnp.sum(phi)))
    convolved = jnp.sqrt(1.0 - rho) * theta + jnp.sqrt(rho / data["scaling_factor"]) * phi
    with numpyro.plate("N_obs", n):
        numpyro.sample("y", dist.Poisson(jnp.exp(jnp.log(data["E"]) + beta0 + convolved * sigma)), obs=data["y"])
