"""1988 election polls, multilevel logistic regression, in NumPyro (sigma_* uniform on (0, 100))."""

import numpyro
import numpyro.distributions as dist


def model(data):
    sigma = {g: numpyro.sample(f"sigma_{g}", dist.Uniform(0.0, 100.0)) for g in "abcde"}

    def group(g, size):
        return numpyro.sample(g, dist.Normal(0.0, sigma[g]).expand([data[size]]).to_event(1))

    a, b, c = group("a", "n_age"), group("b", "n_edu"), group("c", "n_age_edu")
    d, e = group("d", "n_state"), group("e", "n_region_full")
    beta = numpyro.sample("beta", dist.Normal(0.0, 100.0).expand([5]).to_event(1))
    black, female = data["black"], data["female"]
    y_hat = (beta[0] + beta[1] * black + beta[2] * female + beta[4] * female * black + beta[3] * data["v_prev_full"]
             + a[data["age"]] + b[data["edu"]] + c[data["age_edu"]] + d[data["state"]] + e[data["region_full"]])
    numpyro.sample("y", dist.Bernoulli(logits=y_hat).to_event(1), obs=data["y"])
