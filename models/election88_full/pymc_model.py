"""1988 election polls, multilevel logistic regression, in PyMC (sigma_* uniform on (0, 100))."""

import pymc as pm


def build(data) -> pm.Model:
    with pm.Model() as model:
        idx = {k: pm.Data(f"{k}_data", data[k]) for k in ("age", "edu", "age_edu", "state", "region_full")}
        black = pm.Data("black_data", data["black"])
        female = pm.Data("female_data", data["female"])
        v_prev = pm.Data("v_prev_full_data", data["v_prev_full"])
        y = pm.Data("y_data", data["y"])
        sigma = {g: pm.Uniform(f"sigma_{g}", 0.0, 100.0) for g in "abcde"}
        a = pm.Normal("a", 0.0, sigma["a"], shape=data["n_age"])
        b = pm.Normal("b", 0.0, sigma["b"], shape=data["n_edu"])
        c = pm.Normal("c", 0.0, sigma["c"], shape=data["n_age_edu"])
        d = pm.Normal("d", 0.0, sigma["d"], shape=data["n_state"])
        e = pm.Normal("e", 0.0, sigma["e"], shape=data["n_region_full"])
        beta = pm.Normal("beta", 0.0, 100.0, shape=5)
        y_hat = (beta[0] + beta[1] * black + beta[2] * female + beta[4] * female * black + beta[3] * v_prev
                 + a[idx["age"]] + b[idx["edu"]] + c[idx["age_edu"]] + d[idx["state"]] + e[idx["region_full"]])
        pm.Bernoulli("y", logit_p=y_hat, observed=y)
    return model
