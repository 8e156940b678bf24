"""Party identification in the 1972 National Election Study (posteriordb ``nes1972-nes``, ARM chapter 4),
N = 1,330.

partyid7 ~ N(beta[0] + beta[1] real_ideo + beta[2] race_adj + beta[3] age30_44 + beta[4] age45_64
+ beta[5] age65up + beta[6] educ1 + beta[7] gender + beta[8] income, sigma); the age indicators
(age_discrete == 2, 3, 4) are Stan's transformed data, computed by every port from the integer data
``age_discrete`` (a category 1..4, not an index: kept as it is). beta and sigma flat (Stan's program
gives them no prior): improper, so no prior simulator and SBC does not apply.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw, ints=("age_discrete",))


def design(data):
    """(N, 9): intercept, real_ideo, race_adj, the three age indicators, educ1, gender, income."""
    age = data["age_discrete"]
    cols = [np.ones(len(age)), data["real_ideo"], data["race_adj"]]
    cols += [(age == k).astype(np.float64) for k in (2, 3, 4)]
    cols += [data["educ1"], data["gender"], data["income"]]
    return np.column_stack(cols)


def log_prior(params, data):
    return 0.0  # flat on the declared supports


def log_likelihood(params, data):
    mu = design(data) @ np.asarray(params["beta"], dtype=np.float64)
    return normal_lpdf(data["partyid7"], mu, float(params["sigma"]))


SPEC = ModelSpec(
    name="nes",
    description="Linear regression of 1972 NES party identification (1,330 respondents), flat priors (posteriordb nes1972-nes)",
    params=(Param("beta", (9,)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("partyid7",),
    tags=("glm",),
    size_class="medium",
    prior="improper",
    posteriordb="nes1972-nes",
)
