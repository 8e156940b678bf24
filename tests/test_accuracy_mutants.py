"""Wrong samplers FAIL the accuracy verdict; a correct one does not (issue #18's mutation test).

The mutants (``tests/fakes/mutant_sampler.py``): one parameter's draws x 1.1, one parameter shifted by
0.1 posterior sd, one parameter with half the variance, one chain stuck. The fast test applies them to
synthetic draws shaped like a benchmark cell's (4 chains x 1,000 draws, autocorrelated so that the bulk
ESS is about 2,000 per repeat, three repeats pooled) against a reference summary of the exact
distribution with the MCSEs of a 40,000-ESS reference; the slow test runs the real NumPyro sampler,
mutated, at the default bench settings on ``eight_schools_noncentered``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import accuracy as acc
from tests.fakes.mutant_sampler import mutate

MODES = ("scale", "shift", "half_variance", "stuck_chain")


def _ar1(rng, chains=4, draws=1000, dims=6, rho=0.35, loc=1.0, scale=2.0):
    """Gaussian AR(1) draws (chain, draw, dims) with marginal N(loc, scale): bulk ESS ~ 4000 (1-rho)/(1+rho)."""
    x = np.empty((chains, draws, dims))
    x[:, 0] = rng.normal(size=(chains, dims))
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho ** 2) * rng.normal(size=(chains, dims))
    return loc + scale * x


def _reference(dims=6, loc=1.0, scale=2.0, ess=40_000) -> pd.DataFrame:
    from scipy import stats

    sd = np.full(dims, scale)
    q05, q95 = loc + scale * stats.norm.ppf(0.05), loc + scale * stats.norm.ppf(0.95)
    se_q = np.sqrt(0.05 * 0.95 / ess) / stats.norm.pdf(stats.norm.ppf(0.05)) * scale
    return pd.DataFrame({
        "parameter": [f"x[{i}]" for i in range(dims)], "mean": loc, "sd": sd, "mcse_mean": sd / np.sqrt(ess),
        "mcse_sd": sd / np.sqrt(2 * ess), "q05": q05, "q50": loc, "q95": q95, "mcse_q05": se_q, "mcse_q95": se_q})


def _verdict(mode: str | None, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(3):
        draws = {"x": _ar1(rng)}
        if mode:
            draws = mutate(draws, mode, "x")
            if mode != "stuck_chain":  # one parameter: x[0] only
                clean = draws["x"].copy()
                clean[..., 1:] = _ar1(rng)[..., 1:]
                draws = {"x": clean}
        tables.append(acc.cell_statistics(draws))
    return acc.compare(_reference(), acc.pool(tables))


@pytest.mark.parametrize("mode", MODES)
def test_each_mutant_fails_with_three_repeats(mode):
    for seed in range(5):
        out = _verdict(mode, seed)
        assert out["accuracy"] == "FAIL", (mode, seed, out)


def test_a_correct_sampler_does_not_fail():
    verdicts = [_verdict(None, seed)["accuracy"] for seed in range(20)]
    assert "FAIL" not in verdicts
    assert verdicts.count("PASS") >= 18  # REVIEW has a family-wise rate of at most 1%


@pytest.mark.slow
def test_mutated_numpyro_fails_at_the_default_bench_settings(tmp_path):
    """The real sampler, mutated, 4 chains x 1000 warm-up x 1000 draws, 3 repeats, eight_schools_noncentered:
    every mutant FAILs (repeats pooled), the unmutated NumPyro does not."""
    from harness.accuracy import pooled_verdicts
    from harness.loaders import load_run
    from harness.run.plan import RunPlan
    from harness.run.runner import run
    from harness.settings import SamplerSettings

    backends = ["numpyro", *(f"mutant_{m}" for m in MODES)]
    plan = RunPlan(models=["eight_schools_noncentered"], backends=backends, settings=SamplerSettings(),
                   repeats=3, equivalence=False)
    out = run(plan, tmp_path / "run", progress=False)
    frame, _ = load_run(out)
    verdicts = {key[2]: v["accuracy"] for key, v in pooled_verdicts(frame).items()}
    assert verdicts["numpyro"] != "FAIL"
    assert all(verdicts[f"mutant_{m}"] == "FAIL" for m in MODES), verdicts
