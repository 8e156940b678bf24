"""Seeds germination (posteriordb ``seeds_data-seeds_centered_model``; WinBUGS Vol. 1, Crowder 1978):
random-effects logistic regression of germinated seeds n[i] out of N[i] on 21 plates, seed type x1,
root extract x2 and their interaction; centred plate effects.

alpha0, alpha1, alpha2, alpha12 ~ N(0, 1); sigma ~ HalfCauchy(1); c[i] ~ N(0, sigma);
b = c - mean(c) (a transformed parameter, declared derived);
n[i] ~ Binomial(N[i], logit^-1(alpha0 + alpha1 x1[i] + alpha2 x2[i] + alpha12 x1[i] x2[i] + b[i])).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw, ints=("n", "N"))


def sample_prior(rng, data):
    out = {k: rng.normal(0.0, 1.0) for k in ("alpha0", "alpha1", "alpha12", "alpha2")}
    out["sigma"] = np.abs(rng.standard_cauchy())
    out["c"] = rng.normal(0.0, out["sigma"], data["I"])
    return out


def derive(params, data):
    c = np.asarray(params["c"])
    return {"b": c - c.mean(axis=-1, keepdims=True)}


def _logits(params, data):
    x1, x2 = data["x1"], data["x2"]
    return (params["alpha0"] + params["alpha1"] * x1 + params["alpha2"] * x2 + params["alpha12"] * (x1 * x2)
            + derive(params, data)["b"])


def simulate(rng, params, data):
    return {**data, "n": rng.binomial(data["N"], special.expit(_logits(params, data))).astype(np.int64)}


def log_prior(params, data):
    return (sum(normal_lpdf(params[k], 0.0, 1.0) for k in ("alpha0", "alpha1", "alpha12", "alpha2"))
            + half_cauchy_lpdf(params["sigma"], 1.0) + normal_lpdf(params["c"], 0.0, params["sigma"]))


def log_likelihood(params, data):
    n, size, eta = data["n"], data["N"], _logits(params, data)
    log_choose = special.gammaln(size + 1) - special.gammaln(n + 1) - special.gammaln(size - n + 1)
    return float(np.sum(log_choose + n * special.log_expit(eta) + (size - n) * special.log_expit(-eta)))


SPEC = ModelSpec(
    name="seeds_centered",
    description="Seeds: random-effects logistic regression, 21 plates, centred plate effects "
                "(posteriordb seeds_data-seeds_centered_model)",
    params=(
        Param("alpha0"),
        Param("alpha1"),
        Param("alpha12"),
        Param("alpha2"),
        Param("c", ("I",)),
        Param("sigma", support="positive"),
    ),
    derived=(Param("b", ("I",)),),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("n",),
    tags=("hierarchical", "glm"),
    size_class="small",
    posteriordb="seeds_data-seeds_centered_model",
)
