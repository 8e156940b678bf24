"""The SBC verdict has teeth and keeps its false-alarm rate (fixed seeds, pure numpy, seconds).

A conjugate normal model, mu ~ N(0, 1), y_i ~ N(mu, 1), i = 1..10, has the exact posterior
N(sum(y) / 11, 1 / sqrt(11)). "Samplers" here are plain functions that draw from it or from a
deliberately wrong distribution; their draws go through the same thinning, test quantities
(``mu``, ``loglik``, ``joint``), ranks, ECDF bands and verdict as a backend's fits.

Power, measured over 200 seeds each with these settings (L = 39, alpha = 0.05, 3 quantities):
500 replicates flag a 0.5 sd shift, 0.8x under-dispersion and a dropped likelihood 200/200 times;
the exact sampler fails 10/200 times (the family-wise bound is 5%).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from harness.sbc import stats
from harness.sbc.ranks import DEFAULT_KEPT, quantity_names, rank_of, replicate_ranks
from harness.spec import ModelSpec, Param

N_OBS = 10
POST_SD = 1.0 / np.sqrt(N_OBS + 1)
L = DEFAULT_KEPT
N_REPS = 500
N_DRAWS = 200  # iid draws per fit; thinning keeps L of them


def _log_prior(params, data):
    return float(-0.5 * np.asarray(params["mu"]) ** 2 - 0.5 * np.log(2 * np.pi))


def _log_likelihood(params, data):
    return float(np.sum(-0.5 * (data["y"] - params["mu"]) ** 2) - 0.5 * N_OBS * np.log(2 * np.pi))


CONJUGATE = ModelSpec(
    name="conjugate_normal",
    description="mu ~ N(0, 1), y_i ~ N(mu, 1), 10 observations",
    params=(Param("mu"),),
    make_data=lambda rng: {"n": N_OBS, "y": np.zeros(N_OBS)},
    sample_prior=lambda rng, data: {"mu": rng.normal()},
    simulate=lambda rng, params, data: {**data, "y": rng.normal(params["mu"], 1.0, size=data["n"])},
    log_prior=_log_prior,
    log_likelihood=_log_likelihood,
    observed=("y",),
)


def posterior_mean(data):
    return data["y"].sum() / (N_OBS + 1)


SAMPLERS = {
    "exact": lambda rng, data: rng.normal(posterior_mean(data), POST_SD, N_DRAWS),
    "shifted_half_sd": lambda rng, data: rng.normal(posterior_mean(data) + 0.5 * POST_SD, POST_SD, N_DRAWS),
    "under_dispersed_0.8": lambda rng, data: rng.normal(posterior_mean(data), 0.8 * POST_SD, N_DRAWS),
    "likelihood_omitted": lambda rng, data: rng.normal(0.0, 1.0, N_DRAWS),  # the prior
}


def conjugate_sbc(sampler, n_reps: int = N_REPS, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Ranks (n_reps, 3) of one sampler through ``replicate_ranks`` (thinning, quantities, ties)."""
    data = CONJUGATE.data()
    names = quantity_names(CONJUGATE, data)
    out = []
    for child in np.random.SeedSequence(seed).spawn(n_reps):
        sim_rng, fit_rng, tie_rng = (np.random.default_rng(s) for s in child.spawn(3))
        truth = CONJUGATE.sample_prior(sim_rng, data)
        data_sim = CONJUGATE.simulate(sim_rng, truth, data)
        draws = {"mu": sampler(fit_rng, data_sim).reshape(1, N_DRAWS)}
        r = replicate_ranks(CONJUGATE, data_sim, truth, draws, L, tie_rng)
        assert r.status == "ok" and r.n_kept == L
        out.append([r.ranks[n] for n in names])
    return np.array(out), names


@pytest.fixture(scope="module")
def verdicts():
    out = {}
    for name, sampler in SAMPLERS.items():
        ranks, names = conjugate_sbc(sampler)
        assessment = stats.assess(ranks, names, L, alpha=0.05)
        out[name] = (stats.verdict(N_REPS, 0, assessment)[0], assessment)
    return out


def test_exact_sampler_passes(verdicts):
    verdict, assessment = verdicts["exact"]
    assert verdict == "pass", assessment.failed_quantities
    for level in stats.COVERAGE_LEVELS:  # coverage of a calibrated sampler is near nominal
        assert abs(assessment.mean_coverage(level) - level) < 0.06


@pytest.mark.parametrize("wrong", ["shifted_half_sd", "under_dispersed_0.8", "likelihood_omitted"])
def test_wrong_samplers_fail(verdicts, wrong):
    verdict, assessment = verdicts[wrong]
    assert verdict == "fail"


def test_dropped_likelihood_is_caught_by_loglik_not_by_parameter_ranks(verdicts):
    _, assessment = verdicts["likelihood_omitted"]
    failed = assessment.failed_quantities
    assert "loglik" in failed
    assert "mu" not in failed  # prior draws rank the prior's own draws uniformly: only loglik/joint see it


def test_shift_is_caught_by_the_parameter(verdicts):
    assert "mu" in verdicts["shifted_half_sd"][1].failed_quantities


def test_under_dispersion_lowers_coverage(verdicts):
    _, assessment = verdicts["under_dispersed_0.8"]
    mu = next(q for q in assessment.quantities if q.quantity == "mu")
    for level in stats.COVERAGE_LEVELS:  # intervals 0.8x too narrow: 50% -> ~41%, 80% -> ~70%, 95% -> ~88%
        assert mu.coverage[level] < level - 0.03, (level, mu.coverage)


def _vectorised_exact_ranks(n_reps: int, rng: np.random.Generator) -> np.ndarray:
    """Ranks of the exact sampler with L iid draws, all replicates at once (no thinning needed)."""
    mu = rng.normal(0.0, 1.0, n_reps)
    y = rng.normal(mu[:, None], 1.0, (n_reps, N_OBS))
    draws = rng.normal((y.sum(1) / (N_OBS + 1))[:, None], POST_SD, (n_reps, L))
    loglik_true = -0.5 * ((y - mu[:, None]) ** 2).sum(1)
    loglik_draws = -0.5 * ((y[:, None, :] - draws[:, :, None]) ** 2).sum(-1)
    true = np.stack([mu, loglik_true, loglik_true - 0.5 * mu ** 2], 1)
    kept = np.stack([draws, loglik_draws, loglik_draws - 0.5 * draws ** 2], 2)
    return np.array([rank_of(true[i], kept[i], rng) for i in range(n_reps)])


def test_false_alarm_rate_of_the_exact_sampler_is_at_most_alpha():
    """40 independent SBC runs of the exact sampler: fails ~ Binomial(40, <= 0.05)."""
    runs, alpha = 40, 0.05
    fails = 0
    for seed in range(runs):
        ranks = _vectorised_exact_ranks(N_REPS, np.random.default_rng(1000 + seed))
        fails += stats.assess(ranks, ["mu", "loglik", "joint"], L, alpha).failed_quantities != []
    assert fails <= sps.binom.ppf(0.999, runs, alpha), fails


def test_band_level_is_exact_for_one_quantity():
    """Uniform ranks leave a 95% band ~5% of the time: the band is neither loose nor tight."""
    rng = np.random.default_rng(7)
    trials, n = 1000, 100
    outside = sum(not stats.in_band(rng.integers(0, L + 1, n), L, 0.95) for _ in range(trials))
    lo, hi = sps.binom.interval(0.999, trials, 0.05)
    assert lo <= outside <= hi, outside


def test_bonferroni_level_per_quantity():
    assert stats.band_prob(0.05, 12) == pytest.approx(1 - 0.05 / 12)
    assert stats.assess(np.zeros((30, 3), dtype=int), ["a", "b", "c"], L).prob == pytest.approx(1 - 0.05 / 3)


def test_coverage_is_exact_for_uniform_ranks_with_l_39():
    ranks = np.arange(L + 1)  # every rank once: the uniform distribution itself
    for level in stats.COVERAGE_LEVELS:
        observed, expected = stats.coverage(ranks, L, level)
        assert observed == pytest.approx(level) and expected == pytest.approx(level)


def test_chi_square_bins_divide_the_rank_values():
    rng = np.random.default_rng(3)
    _, p, bins = stats.chi_square(rng.integers(0, L + 1, 1000), L)
    assert bins == 20 and 0.0 <= p <= 1.0
    _, p_bad, _ = stats.chi_square(np.zeros(1000, dtype=int), L)
    assert p_bad < 1e-10
    assert stats.chi_square(rng.integers(0, 100, 40), 99)[2] == 5  # 100 values, 40 ranks -> 8 expected each


def test_verdict_rules():
    good = stats.assess(np.tile(np.arange(L + 1), 2)[:, None], ["q"], L)
    assert stats.verdict(80, 0, good)[0] == "pass"
    assert stats.verdict(84, 4, good)[0] == "pass"  # 4.8% failed
    verdict, reason = stats.verdict(85, 5, good)  # 5.9% failed
    assert verdict == "inconclusive" and "5/85" in reason
    few = stats.assess(np.arange(10)[:, None], ["q"], L)
    assert stats.verdict(10, 0, few)[0] == "inconclusive"
    bad = stats.assess(np.zeros((80, 1), dtype=int), ["q"], L)
    assert stats.verdict(80, 0, bad) == ("fail", "ranks not uniform: q")
