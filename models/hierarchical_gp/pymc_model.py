"""Hierarchical GP model of state-wide presidential votes in PyMC (see model.py)."""

import numpy as np
import pymc as pm
import pytensor.tensor as pt

N_VARS = 17
JITTER = 1e-6


def _cholesky(d2, sd_long, length_long, sd_short, length_short):
    cov = sd_long**2 * pt.exp(-0.5 * d2 / length_long**2) + sd_short**2 * pt.exp(-0.5 * d2 / length_short**2)
    return pt.linalg.cholesky(cov + JITTER * pt.eye(d2.shape[0]))


def build(data) -> pm.Model:
    ny, nr, ns = data["N_years"], data["N_regions"], data["N_states"]
    years = np.arange(1.0, ny + 1.0)
    d2 = pt.as_tensor_variable((years[:, None] - years[None, :]) ** 2)
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        state_region_ind = pm.Data("state_region_ind_data", data["state_region_ind"])
        state_ind = pm.Data("state_ind_data", data["state_ind"])
        region_ind = pm.Data("region_ind_data", data["region_ind"])
        year_ind = pm.Data("year_ind_data", data["year_ind"])
        GP_region_std = pm.Normal("GP_region_std", 0.0, 1.0, shape=(ny, nr))
        GP_state_std = pm.Normal("GP_state_std", 0.0, 1.0, shape=(ny, ns))
        year_std = pm.Normal("year_std", 0.0, 1.0, shape=data["N_years_obs"])
        state_std = pm.Normal("state_std", 0.0, 1.0, shape=ns)
        region_std = pm.Normal("region_std", 0.0, 1.0, shape=nr)
        # float64 arguments: with Python floats PyMC makes 3.0 a float32 constant and its scale 1 / 3 a float32
        # reciprocal, so the rate became 1 / float32(1 / 3) = 2.99999991 (seen in the equivalence check)
        tot_var = pm.Gamma("tot_var", alpha=np.float64(3.0), beta=np.float64(3.0))
        prop_var = pm.Dirichlet("prop_var", np.full(N_VARS, 2.0))
        mu = pm.Normal("mu", 0.5, 0.5)
        l_region_long = pm.Weibull("length_GP_region_long", alpha=30.0, beta=8.0)
        l_state_long = pm.Weibull("length_GP_state_long", alpha=30.0, beta=8.0)
        l_region_short = pm.Weibull("length_GP_region_short", alpha=30.0, beta=3.0)
        l_state_short = pm.Weibull("length_GP_state_short", alpha=30.0, beta=3.0)

        sd = pt.sqrt(N_VARS * prop_var * tot_var)
        gp_region = _cholesky(d2, sd[12], l_region_long, sd[14], l_region_short) @ GP_region_std
        gp_state = _cholesky(d2, sd[13], l_state_long, sd[15], l_state_short) @ GP_state_std
        state_re = sd[2:12][state_region_ind] * state_std
        obs_mu = (mu + sd[0] * year_std[year_ind] + state_re[state_ind] + sd[1] * region_std[region_ind]
                  + gp_region[year_ind, region_ind] + gp_state[year_ind, state_ind])
        pm.Normal("y", obs_mu, sd[16], observed=y)
    return model
