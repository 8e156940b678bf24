"""Where SBC replicates come from (``harness.sbc.simulation``): posterior SBC's data, simulators, skip rows."""

import numpy as np
import pytest

from harness.catalogue import get_model, reference_dir
from harness.sbc import simulation
from harness.sbc.plan import SBCPlan
from harness.sbc.run import run_sbc
from harness.sbc.summary import load_summary
from harness.sbc.worker import replicate_streams
from harness.settings import SamplerSettings
from harness.spec import SpecError


def test_rows_are_appended_and_counted():
    spec = get_model("logistic_regression")
    data = spec.data()
    replicate = {"y": 1 - data["y"]}
    out = simulation.augment(spec, data, replicate)
    assert out["N"] == 2 * data["N"] and out["D"] == data["D"]
    assert out["X"].shape == (2 * data["N"], data["D"])
    np.testing.assert_array_equal(out["X"][data["N"]:], data["X"])
    np.testing.assert_array_equal(out["y"], np.concatenate([data["y"], 1 - data["y"]]))


def test_models_without_rows_have_no_posterior_sbc():
    assert "exchangeable rows" in simulation.not_applicable(get_model("eight_schools_noncentered"), "posterior")
    with pytest.raises(SpecError, match="exchangeable rows"):
        spec = get_model("eight_schools_noncentered")
        simulation.augment(spec, spec.data(), {"y": spec.data()["y"]})


def test_posterior_truths_are_reference_draws_and_data_keep_the_observations():
    spec = get_model("normal_mean")
    data = spec.data()
    draws = simulation.posterior_draws(spec)["mu"]
    rng = replicate_streams(0, spec.name, 3, simulation.POSTERIOR_STREAM_OFFSET)[0]
    truth, fitted = simulation.replicate(spec, data, "posterior", 0, 3, simulation.POSTERIOR_STREAM_OFFSET, rng)
    assert np.any(np.isclose(draws, float(truth["mu"]), rtol=0, atol=0))
    assert fitted["K"] == 2 * data["K"]
    np.testing.assert_array_equal(fitted["x"][: data["K"]], data["x"])


def test_improper_priors_allow_posterior_but_not_prior_sbc():
    spec = get_model("kidscore_momiq")
    assert simulation.not_applicable(spec, "prior") == "not applicable: improper prior"


def test_every_skip_is_a_row_with_its_reason(tmp_path):
    plan = SBCPlan(models=["ark", "garch11"], backends=["numpyro", "pyro"], sims={"numpyro": 5, "pyro": 5},
                   settings=SamplerSettings(chains=1, warmup=50, draws=50, cores=1), method="posterior", kept=9)
    run_sbc(plan, tmp_path, in_process=True, progress=False, figures=False)
    summary = load_summary(tmp_path).set_index(["model", "backend"])
    assert summary.loc[("ark", "numpyro"), "verdict"].startswith("not applicable: no simulator")
    assert summary.loc[("garch11", "pyro"), "verdict"].startswith("not applicable")  # no rows declared either
    assert (summary["sims"] == 0).all() and (summary["method"] == "posterior").all()


def test_posterior_sbc_runs_end_to_end(tmp_path):
    if not (reference_dir("normal_mean") / "draws.npz").is_file():
        pytest.skip("no stored reference for normal_mean")
    plan = SBCPlan(models=["normal_mean"], backends=["fake_exact"], sims={"fake_exact": 20},
                   settings=SamplerSettings(chains=1, warmup=50, draws=200, cores=1), method="posterior", kept=9)
    run_sbc(plan, tmp_path, in_process=True, progress=False, figures=False)
    row = load_summary(tmp_path).iloc[0]
    assert row["method"] == "posterior" and row["sims"] == 20 and row["ok"] == 20
