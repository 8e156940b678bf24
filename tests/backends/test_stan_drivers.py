"""Both Stan drivers over the same .stan files: PyStan (embedded) and cmdstanpy (where CmdStan exists)."""

import numpy as np
import pytest

from harness.backends import stan
from harness.catalogue import get_model
from harness.settings import SamplerSettings

CMDSTAN_CSV_TAIL = """
#
#  Elapsed Time: 0.012 seconds (Warm-up)
#                0.0345 seconds (Sampling)
#                0.0465 seconds (Total)
#
"""
HTTPSTAN_LOGGER_TEXT = " Elapsed Time: 0.05 seconds (Warm-up)                 0.125 seconds (Sampling)   0.175 seconds (Total)"


def test_elapsed_time_is_read_from_both_drivers_outputs():
    assert stan.elapsed_seconds(CMDSTAN_CSV_TAIL) == (0.012, 0.0345)
    assert stan.elapsed_seconds(HTTPSTAN_LOGGER_TEXT) == (0.05, 0.125)
    with pytest.raises(RuntimeError, match="Elapsed Time"):
        stan.elapsed_seconds("no timing here")


def test_driver_choice_and_bad_value(monkeypatch):
    monkeypatch.setenv("PPL_HARNESS_STAN_DRIVER", "pystan")
    assert stan.driver() == "pystan"
    monkeypatch.setenv("PPL_HARNESS_STAN_DRIVER", "rstan")
    with pytest.raises(ValueError, match="'pystan' or 'cmdstanpy'"):
        stan.driver()
    monkeypatch.delenv("PPL_HARNESS_STAN_DRIVER")
    assert stan.driver() == ("cmdstanpy" if stan.cmdstan_found() else "pystan")


@pytest.mark.parametrize("driver", ["pystan", "cmdstanpy"])
def test_driver_fits_and_agrees_with_the_reference_density(driver, monkeypatch):
    if driver == "cmdstanpy" and not stan.cmdstan_found():
        pytest.skip("no CmdStan install found (set CMDSTAN); cmdstanpy cannot download one offline")
    if driver == "pystan":
        pytest.importorskip("stan")
    monkeypatch.setenv("PPL_HARNESS_STAN_DRIVER", driver)
    spec = get_model("eight_schools_noncentered")
    data = spec.data()
    settings = SamplerSettings(chains=2, warmup=100, draws=100)
    compiled = stan.compile(spec, data, settings)
    assert compiled.info["stan_driver"] == driver
    fit = stan.sample(compiled, data, settings, 3)
    assert fit.draws["theta_trans"].shape == (2, 100, 8)
    assert fit.warmup_s > 0 and fit.sampling_s > 0
    points = [spec.sample_prior(np.random.default_rng(i), data) for i in range(3)]
    lp = stan.log_density(spec, data, points)
    ref = np.array([spec.log_density(p, data) for p in points])
    np.testing.assert_allclose(lp - lp[0], ref - ref[0], rtol=1e-6, atol=1e-6)
