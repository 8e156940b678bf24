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
        assert r.n_kept == L
        if r.status != "ok":  # low_ess: a noisy ESS estimate of loglik/joint; the engine counts it as failed
            continue
        out.append([r.ranks[n] for n in names])
    assert len(out) >= 0.98 * n_reps  # 200 iid draws: low_ess is rare (about 1 in 300 replicates)
    return np.array(out), names


@pytest.fixture(scope="module")
def verdicts():
    out = {}
    for name, sampler in SAMPLERS.items():
        ranks, names = conjugate_sbc(sampler)
        assessment = stats.assess(ranks, names, L, alpha=0.05)
        out[name] = (stats.verdict(len(ranks), 0, assessment)[0], assessment)
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


# ---------------------------------------------------------------- exact test, power, Holm, false alarms


def test_exact_p_value_has_its_nominal_size():
    """P(p <= a) for uniform ranks, estimated from 4000 runs, is at most a (the test is exact, discrete)."""
    rng = np.random.default_rng(11)
    p = np.array([stats.rank_test(rng.integers(0, L + 1, 20), L) for _ in range(4000)])
    for a in (0.01, 0.05, 0.2):
        assert (p <= a).mean() <= a + 3 * np.sqrt(a * (1 - a) / 4000), a
    assert (p <= 0.2).mean() > 0.15  # and not grossly conservative
    crit = stats.critical_value(20, L, 0.05)
    assert stats.p_value_of_statistic(crit, 20, L) <= 0.05


def test_exact_power_matches_simulation():
    from harness.sbc import power

    rng = np.random.default_rng(12)
    n, level, runs = 20, 0.05 / 3, 2000
    crit = stats.critical_value(n, L, level)
    hits = 0
    for _ in range(runs):  # the truth from the posterior, L draws from the posterior shifted by 0.5 sd
        truth = rng.normal(size=n)
        draws = rng.normal(0.5, 1.0, size=(n, L))
        hits += stats.statistic((draws < truth[:, None]).sum(1), L) <= crit
    exact = power.power(n, L, level, 0.5)
    assert abs(hits / runs - exact) < 4 * np.sqrt(exact * (1 - exact) / runs), (hits / runs, exact)


def test_power_table_values():
    """The power table in docs/sbc.md (``python -m harness sbc-power``): Q = 3, alpha = 0.05, L = 39."""
    from harness.sbc import power

    level = 0.05 / 3
    assert power.min_shift(20, L, level) == pytest.approx(0.86, abs=0.01)
    assert power.min_shift(100, L, level) == pytest.approx(0.39, abs=0.01)
    assert not power.adequate(power.min_shift(50, L, level))
    assert power.adequate(power.min_shift(60, L, level))
    assert power.replicates_for(L, level) == 60


def test_holm_adjustment():
    adjusted = stats.holm([0.01, 0.04, 0.03, float("nan")])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and np.isnan(adjusted[3])
    assert stats.holm([]) == []


AR_RHO = 0.5
AR_DRAWS = 400  # bulk ESS of mu ~ 400 (1 - rho) / (1 + rho) ~ 130: thinning keeps every ~3rd draw
AR_RUNS = 200
# A procedure with a 5% false-alarm rate exceeds 19 of 200 with probability 0.3%; one with a 15% rate
# stays at or below 19 with probability 1.5%: the threshold separates the two.
AR_MAX_FLAGS = 19


def _ar1_exact_flags(n_reps: int, runs: int, seed: int) -> int:
    """Flags of the exact sampler with AR(1) draws (stationary, so every draw is exact) over ``runs`` runs.

    Each run: n_reps replicates of the conjugate model; one chain of AR_DRAWS autocorrelated draws
    from the exact posterior per replicate; thinning by the smallest bulk ESS over mu, loglik and
    joint (``harness.sbc.ranks.thin``); ranks with random tie-breaking; a replicate whose ESS leaves
    fewer than L candidates is a failed fit (``low_ess``), as in the engine; the run is flagged when its
    first-stage verdict (``stats.verdict``: Bonferroni p-value below alpha = 0.05) is ``fail``.
    """
    from scipy.signal import lfilter

    from harness.sbc.ranks import ess_bulk, thin

    rng = np.random.default_rng(seed)
    flags = 0
    scale = np.sqrt(1.0 - AR_RHO ** 2)
    for _ in range(runs):
        mu = rng.normal(0.0, 1.0, n_reps)
        y = rng.normal(mu[:, None], 1.0, (n_reps, N_OBS))
        mean = y.sum(1) / (N_OBS + 1)
        eps = rng.normal(size=(n_reps, AR_DRAWS))
        eps[:, 1:] *= scale  # z_0 ~ N(0, 1), z_t = rho z_{t-1} + sqrt(1 - rho^2) e_t: stationary N(0, 1)
        z = lfilter([1.0], [1.0, -AR_RHO], eps, axis=1)
        draws = mean[:, None] + POST_SD * z                                   # (R, draws)
        sq = (y ** 2).sum(1)[:, None] - 2 * draws * y.sum(1)[:, None] + N_OBS * draws ** 2
        loglik = -0.5 * sq
        values = np.stack([draws, loglik, loglik - 0.5 * draws ** 2], axis=2)  # (R, draws, 3)
        loglik_true = -0.5 * ((y - mu[:, None]) ** 2).sum(1)
        truth = np.stack([mu, loglik_true, loglik_true - 0.5 * mu ** 2], axis=1)
        ess = ess_bulk(values.transpose(1, 0, 2).reshape(1, AR_DRAWS, -1)).reshape(n_reps, 3).min(axis=1)
        ranks, low_ess = [], 0
        for i in range(n_reps):
            t = thin(values[i][None], L, float(ess[i]))
            assert t.factor >= 2, (t.factor, t.ess)  # autocorrelated: thinning does work
            if not t.enough:
                low_ess += 1
                continue
            ranks.append(rank_of(truth[i], values[i][t.draw], rng))
        assessment = stats.assess(np.array(ranks).reshape(-1, 3), ["mu", "loglik", "joint"], L, 0.05)
        flags += stats.verdict(n_reps, low_ess, assessment)[0] == "fail"
    return flags


@pytest.mark.parametrize("n_reps", [20, 100])
def test_false_alarm_rate_with_autocorrelated_exact_draws(n_reps):
    flags = _ar1_exact_flags(n_reps, AR_RUNS, seed=2000 + n_reps)
    assert flags <= AR_MAX_FLAGS, f"{flags}/{AR_RUNS} false alarms at n = {n_reps}"


@pytest.mark.slow
def test_false_alarm_rate_with_autocorrelated_exact_draws_n200():
    flags = _ar1_exact_flags(200, AR_RUNS, seed=2200)
    assert flags <= AR_MAX_FLAGS, f"{flags}/{AR_RUNS} false alarms at n = 200"
