"""Pilots in Pyro: the scales' flat priors on (0, 100) are Uniform(0, 100)."""

import pyro
import pyro.distributions as dist


def model(data):
    mu_a = pyro.sample("mu_a", dist.Normal(0.0, 1.0))
    mu_b = pyro.sample("mu_b", dist.Normal(0.0, 1.0))
    sigma_a = pyro.sample("sigma_a", dist.Uniform(0.0, 100.0))
    sigma_b = pyro.sample("sigma_b", dist.Uniform(0.0, 100.0))
    sigma_y = pyro.sample("sigma_y", dist.Uniform(0.0, 100.0))
    with pyro.plate("groups", data["n_groups"]):
        a = pyro.sample("a", dist.Normal(10.0 * mu_a, sigma_a))
    with pyro.plate("scenarios", data["n_scenarios"]):
        b = pyro.sample("b", dist.Normal(10.0 * mu_b, sigma_b))
    with pyro.plate("N", data["y"].shape[0]):
        pyro.sample("y", dist.Normal(a[data["group_id"]] + b[data["scenario_id"]], sigma_y), obs=data["y"])
