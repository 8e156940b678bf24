"""One-compartment PK model in NumPyro: the ODE by jax.experimental.ode.odeint (adaptive
Dormand-Prince, rtol 1e-12, atol 1e-30; gradients by its adjoint)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.experimental.ode import odeint

RTOL, ATOL = 1e-12, 1e-30  # relative error control (C is far below 1 at the points just inside the supports)


def dC_dt(D, V):
    """The right-hand side with the data's dose D and volume V (Python numbers, not differentiated)."""

    def rhs(c, t, k_a, K_m, V_m):
        dose = jnp.where(t > 0, jnp.exp(-k_a * t) * D * k_a / V, 0.0)
        return dose - (V_m / V) * c / (K_m + c)

    return rhs


def model(data):
    times, c_hat = data["times"], data["C_hat"]
    k_a = numpyro.sample("k_a", dist.HalfCauchy(1.0))
    K_m = numpyro.sample("K_m", dist.HalfCauchy(1.0))
    V_m = numpyro.sample("V_m", dist.HalfCauchy(1.0))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(1.0))
    grid = jnp.concatenate([jnp.full(1, data["t0"], dtype=times.dtype), times])
    c0 = jnp.zeros((), dtype=times.dtype)  # posteriordb's transformed data C0 = {0.0}
    c = odeint(dC_dt(float(data["D"]), float(data["V"])), c0, grid, k_a, K_m, V_m, rtol=RTOL, atol=ATOL)[1:]
    numpyro.sample("C_hat", dist.LogNormal(jnp.log(c), sigma).to_event(1), obs=c_hat)
