"""Pilots in NumPyro: the scales' flat priors on (0, 100) are Uniform(0, 100)."""

import numpyro
import numpyro.distributions as dist


def model(data):
    mu_a = numpyro.sample("mu_a", dist.Normal(0.0, 1.0))
    mu_b = numpyro.sample("mu_b", dist.Normal(0.0, 1.0))
    sigma_a = numpyro.sample("sigma_a", dist.Uniform(0.0, 100.0))
    sigma_b = numpyro.sample("sigma_b", dist.Uniform(0.0, 100.0))
    sigma_y = numpyro.sample("sigma_y", dist.Uniform(0.0, 100.0))
    with numpyro.plate("groups", data["n_groups"]):
        a = numpyro.sample("a", dist.Normal(10.0 * mu_a, sigma_a))
    with numpyro.plate("scenarios", data["n_scenarios"]):
        b = numpyro.sample("b", dist.Normal(10.0 * mu_b, sigma_b))
    with numpyro.plate("N", data["y"].shape[0]):
        numpyro.sample("y", dist.Normal(a[data["group_id"]] + b[data["scenario_id"]], sigma_y), obs=data["y"])
