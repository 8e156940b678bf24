"""Log earnings on height (posteriordb ``earnings-logearn_height``, ARM chapter 4), N = 1,192.

log(earn) ~ N(beta[0] + beta[1] height, sigma); beta and sigma flat (Stan's program gives them no prior).
The log is Stan's transformed data, taken by every port from the raw data. The prior is improper: no
prior simulator, SBC does not apply.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def log_prior(params, data):
    return 0.0  # flat on the declared supports


def log_likelihood(params, data):
    beta = np.asarray(params["beta"], dtype=np.float64)
    return normal_lpdf(np.log(data["earn"]), beta[0] + beta[1] * data["height"], float(params["sigma"]))


SPEC = ModelSpec(
    name="logearn_height",
    description="Regression of log earnings on height, 1,192 adults, flat priors (posteriordb earnings-logearn_height)",
    params=(Param("beta", (2,)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("earn",),
    tags=("glm",),
    size_class="medium",
    prior="improper",
    posteriordb="earnings-logearn_height",
)
