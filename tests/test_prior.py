"""The numpy prior sampler that SBC draws from is each backend's own prior.

SBC is only valid if ``SPEC.sample_prior`` (numpy, used to draw the true parameters) and the prior
a backend samples from are the same distribution. For every catalogue model and every registered backend
with ``prior_draws``, 2000 draws from each are compared with a two-sample
Kolmogorov-Smirnov test per scalar parameter component, fixed seeds. The significance level is
Bonferroni-corrected over every component of every model x backend in this module, so the whole
module raises a false alarm with probability at most 0.001.

Stan has no forward prior sampler (its programs have no generated-quantities prior block); its prior
is covered by the log-density equivalence test (``tests/test_equivalence.py``), which checks that
the Stan program's joint log density, prior terms included, equals ``log_prior + log_likelihood``
of ``model.py`` up to a constant.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from harness.backends import availability, capabilities, default_backends, load_module
from harness.backends.base import SupportsPriorDraws
from harness.catalogue import families_present, get_model, model_names
from harness.sbc.ranks import flatten_point, param_component_names

N_DRAWS = 2000
FAMILY_ALPHA = 0.001
SEED = 20261121

WITH_PRIOR = [b for b in default_backends() if isinstance(load_module(b), SupportsPriorDraws)]
CASES = [(m, b) for m in model_names() for b in WITH_PRIOR
         if get_model(m).sample_prior is not None and capabilities(b).family in families_present(m)]
N_TESTS = sum(len(param_component_names(get_model(m), get_model(m).data())) for m, _ in CASES)
ALPHA = FAMILY_ALPHA / N_TESTS  # per component


def numpy_prior(spec, data, n, seed):
    rng = np.random.default_rng(seed)
    return np.stack([flatten_point(spec, data, spec.sample_prior(rng, data)) for _ in range(n)])


def backend_prior(backend, spec, data, n, seed):
    draws = backend.prior_draws(spec, data, n, seed)
    return np.stack([flatten_point(spec, data, {k: v[i] for k, v in draws.items()}) for i in range(n)])


@pytest.mark.filterwarnings("ignore:The effect of Potentials")  # PyMC: the likelihood term, not the prior
@pytest.mark.parametrize("model,backend", CASES)
def test_numpy_prior_matches_the_backend_prior(model, backend):
    why = availability()[backend]
    if why:
        pytest.skip(f"{backend} unavailable here: {why}")
    spec = get_model(model)
    data = spec.data()
    names = param_component_names(spec, data)
    ours = numpy_prior(spec, data, N_DRAWS, SEED)
    try:
        theirs = backend_prior(load_module(backend), spec, data, N_DRAWS, SEED + 1)
    except NotImplementedError as err:  # e.g. an ordered vector or a flat prior: no forward sampler
        pytest.skip(f"{backend} cannot forward-sample this model's prior ({err}); its density is checked by "
                    "tests/test_equivalence.py and the numpy sampler by SBC")
    assert ours.shape == theirs.shape == (N_DRAWS, len(names))
    assert np.all(np.isfinite(theirs))
    pvalues = {n: stats.ks_2samp(ours[:, j], theirs[:, j]).pvalue for j, n in enumerate(names)}
    worst = min(pvalues, key=pvalues.get)
    assert pvalues[worst] > ALPHA, f"{model} {backend}: {worst} differs (KS p = {pvalues[worst]:.2e} < {ALPHA:.1e})"


def test_the_ks_test_sees_a_wrong_prior():
    """Power check at this level: a HalfCauchy scale off by 50%, a variance given as a scale."""
    rng = np.random.default_rng(0)
    a = np.abs(5.0 * rng.standard_cauchy(N_DRAWS))
    b = np.abs(7.5 * rng.standard_cauchy(N_DRAWS))
    assert stats.ks_2samp(a, b).pvalue < ALPHA
    assert stats.ks_2samp(rng.normal(0, 5, N_DRAWS), rng.normal(0, 25, N_DRAWS)).pvalue < ALPHA
