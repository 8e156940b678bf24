"""Child's test score on mother's IQ (posteriordb ``kidiq-kidscore_momiq``, ARM chapter 3), N = 434.

kid_score ~ N(beta[0] + beta[1] mom_iq, sigma); beta flat (Stan's program gives it no prior), sigma ~
Cauchy(0, 2.5) on sigma > 0 (a half-Cauchy). The prior is improper: no prior simulator, SBC does not apply.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def log_prior(params, data):
    # beta flat; the half-Cauchy's log 2 (Stan's truncated Cauchy drops it) is a constant
    return half_cauchy_lpdf(params["sigma"], 2.5)


def log_likelihood(params, data):
    beta = np.asarray(params["beta"], dtype=np.float64)
    return normal_lpdf(data["kid_score"], beta[0] + beta[1] * data["mom_iq"], float(params["sigma"]))


SPEC = ModelSpec(
    name="kidscore_momiq",
    description="Linear regression of kid's score on mom's IQ, 434 children, flat coefficients (posteriordb kidiq-kidscore_momiq)",
    params=(Param("beta", (2,)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("kid_score",),
    tags=("glm",),
    size_class="small",
    prior="improper",
    posteriordb="kidiq-kidscore_momiq",
)
