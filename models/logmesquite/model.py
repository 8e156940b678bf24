"""Log-log regression of mesquite bush weight (posteriordb ``mesquite-logmesquite``, ARM chapter 4), N = 46.

log(weight) ~ N(beta[0] + beta[1] log(diam1) + beta[2] log(diam2) + beta[3] log(canopy_height)
+ beta[4] log(total_height) + beta[5] log(density) + beta[6] group, sigma); beta and sigma flat (Stan's
program gives them no prior). The logs are Stan's transformed data, computed by every port from the raw
data. The prior is improper: no prior simulator, SBC does not apply.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays

PREDICTORS = ("diam1", "diam2", "canopy_height", "total_height", "density")


def prepare(raw):
    return arrays(raw)


def design(data):
    """(N, 7): intercept, the five logged predictors, group."""
    n = len(data["weight"])
    return np.column_stack([np.ones(n)] + [np.log(data[k]) for k in PREDICTORS] + [data["group"]])


def log_prior(params, data):
    return 0.0  # flat on the declared supports


def log_likelihood(params, data):
    mu = design(data) @ np.asarray(params["beta"], dtype=np.float64)
    return normal_lpdf(np.log(data["weight"]), mu, float(params["sigma"]))


SPEC = ModelSpec(
    name="logmesquite",
    description="Log-log regression of 46 mesquite bushes' weight on their size, flat priors (posteriordb mesquite-logmesquite)",
    params=(Param("beta", (7,)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("weight",),
    tags=("glm",),
    size_class="small",
    prior="improper",
    posteriordb="mesquite-logmesquite",
)
