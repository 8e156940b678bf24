"""Two-parameter logistic IRT, in NumPyro."""

import numpyro
import numpyro.distributions as dist


def model(data):
    n_items, n_persons = data["I"], data["J"]
    sigma_theta = numpyro.sample("sigma_theta", dist.HalfCauchy(2.0))
    theta = numpyro.sample("theta", dist.Normal(0.0, sigma_theta).expand([n_persons]).to_event(1))
    sigma_a = numpyro.sample("sigma_a", dist.HalfCauchy(2.0))
    a = numpyro.sample("a", dist.LogNormal(0.0, sigma_a).expand([n_items]).to_event(1))
    mu_b = numpyro.sample("mu_b", dist.Normal(0.0, 5.0))
    sigma_b = numpyro.sample("sigma_b", dist.HalfCauchy(2.0))
    b = numpyro.sample("b", dist.Normal(mu_b, sigma_b).expand([n_items]).to_event(1))
    logits = a[:, None] * (theta[None, :] - b[:, None])
    numpyro.sample("y", dist.Bernoulli(logits=logits).to_event(2), obs=data["y"])
