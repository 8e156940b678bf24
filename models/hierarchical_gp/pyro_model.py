"""Hierarchical GP model of state-wide presidential votes in Pyro (see model.py)."""

import pyro
import pyro.distributions as dist
import torch

N_VARS = 17
JITTER = 1e-6


def _cholesky(d2, sd_long, length_long, sd_short, length_short):
    cov = sd_long**2 * torch.exp(-0.5 * d2 / length_long**2) + sd_short**2 * torch.exp(-0.5 * d2 / length_short**2)
    return torch.linalg.cholesky(cov + JITTER * torch.eye(d2.shape[0], dtype=d2.dtype))


def model(data):
    y = data["y"]
    ny, nr, ns = data["N_years"], data["N_regions"], data["N_states"]
    years = torch.arange(1.0, ny + 1.0, dtype=y.dtype)
    d2 = (years[:, None] - years[None, :]) ** 2
    year_ind, state_ind, region_ind = data["year_ind"], data["state_ind"], data["region_ind"]
    GP_region_std = pyro.sample("GP_region_std", dist.Normal(0.0, 1.0).expand([ny, nr]).to_event(2))
    GP_state_std = pyro.sample("GP_state_std", dist.Normal(0.0, 1.0).expand([ny, ns]).to_event(2))
    year_std = pyro.sample("year_std", dist.Normal(0.0, 1.0).expand([data["N_years_obs"]]).to_event(1))
    state_std = pyro.sample("state_std", dist.Normal(0.0, 1.0).expand([ns]).to_event(1))
    region_std = pyro.sample("region_std", dist.Normal(0.0, 1.0).expand([nr]).to_event(1))
    tot_var = pyro.sample("tot_var", dist.Gamma(3.0, 3.0))
    prop_var = pyro.sample("prop_var", dist.Dirichlet(torch.full((N_VARS,), 2.0, dtype=y.dtype)))
    mu = pyro.sample("mu", dist.Normal(0.5, 0.5))
    l_region_long = pyro.sample("length_GP_region_long", dist.Weibull(8.0, 30.0))
    l_state_long = pyro.sample("length_GP_state_long", dist.Weibull(8.0, 30.0))
    l_region_short = pyro.sample("length_GP_region_short", dist.Weibull(3.0, 30.0))
    l_state_short = pyro.sample("length_GP_state_short", dist.Weibull(3.0, 30.0))

    sd = torch.sqrt(N_VARS * prop_var * tot_var)
    gp_region = _cholesky(d2, sd[12], l_region_long, sd[14], l_region_short) @ GP_region_std
    gp_state = _cholesky(d2, sd[13], l_state_long, sd[15], l_state_short) @ GP_state_std
    state_re = sd[2:12][data["state_region_ind"]] * state_std
    obs_mu = (mu + sd[0] * year_std[year_ind] + state_re[state_ind] + sd[1] * region_std[region_ind]
              + gp_region[year_ind, region_ind] + gp_state[year_ind, state_ind])
    pyro.sample("y", dist.Normal(obs_mu, sd[16]).to_event(1), obs=y)
