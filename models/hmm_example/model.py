"""Two-state hidden Markov model with Gaussian emissions (posteriordb ``hmm_example-hmm_example``).

theta1, theta2: the transition probabilities out of each state (simplex[2], flat); mu (positive
ordered[2]): the emission means, mu[0] ~ N(3, 1), mu[1] ~ N(10, 1); y[t] ~ N(mu[z[t]], 1) with the
hidden states z summed out by the forward algorithm. 100 observations. No numpy density: the
families are checked against each other and against the Stan program.
"""

from __future__ import annotations

from harness.spec import ModelSpec, Param
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


SPEC = ModelSpec(
    name="hmm_example",
    description="Two-state HMM with Gaussian emissions, forward algorithm, 100 observations (posteriordb)",
    params=(Param("theta1", ("K",), "simplex"), Param("theta2", ("K",), "simplex"),
            Param("mu", ("K",), "positive_ordered")),
    data_file="data.json.zip",
    prepare_data=prepare,
    observed=("y",),
    tags=("time-series", "mixture"),
    size_class="small",
    posteriordb="hmm_example-hmm_example",
)
