"""Linear trend of Kilpisjarvi summer temperatures (posteriordb ``kilpisjarvi_mod-kilpisjarvi``), N = 62.

y ~ N(alpha + beta x, sigma); alpha ~ N(pmualpha, psalpha), beta ~ N(pmubeta, psbeta) (prior means and
scales are data), sigma flat on sigma > 0 (Stan's program gives it no prior). The prior is improper: no
prior simulator, SBC does not apply.
"""

from __future__ import annotations

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def log_prior(params, data):
    # sigma flat on its support
    return (normal_lpdf(params["alpha"], data["pmualpha"], data["psalpha"])
            + normal_lpdf(params["beta"], data["pmubeta"], data["psbeta"]))


def log_likelihood(params, data):
    mu = float(params["alpha"]) + float(params["beta"]) * data["x"]
    return normal_lpdf(data["y"], mu, float(params["sigma"]))


SPEC = ModelSpec(
    name="kilpisjarvi",
    description="Linear trend of 62 years of Kilpisjarvi summer temperatures, flat sigma (posteriordb kilpisjarvi_mod-kilpisjarvi)",
    params=(Param("alpha"), Param("beta"), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("glm",),
    size_class="small",
    prior="improper",
    posteriordb="kilpisjarvi_mod-kilpisjarvi",
)
