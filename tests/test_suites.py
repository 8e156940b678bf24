"""The suites' cost estimate: measured cell costs from a run, and a backend's factor for the rest."""

from types import SimpleNamespace

import pandas as pd

from harness.run.suites import backend_factors, estimate, measured_costs, suite_models


def frame():
    rows = []
    for model, base in (("normal_mean", 10.0), ("eight_schools_noncentered", 20.0)):
        for backend, factor in (("a", 1.0), ("b", 1.0), ("slow", 5.0)):
            for repeat in (0, 1):
                rows.append({"model": model, "backend": backend, "status": "ok", "startup_s": 1.0,
                             "compile_s": base * factor - 1.0 + repeat, "sampling_s": 0.0})
    rows.append({"model": "normal_mean", "backend": "late", "status": "timeout", "startup_s": 1.0})
    return pd.DataFrame(rows)


def test_measured_costs_are_medians_of_the_phases_and_a_timeout_costs_its_budget():
    costs = measured_costs(frame(), timeout_s=300.0)
    seconds = {(r.model, r.backend): r.seconds for r in costs.itertuples()}
    assert seconds[("normal_mean", "a")] == 10.5  # (10 + 11) / 2
    assert seconds[("eight_schools_noncentered", "slow")] == 100.5
    assert seconds[("normal_mean", "late")] == 300.0


def test_an_unmeasured_cell_costs_its_size_class_times_its_backends_factor():
    costs = measured_costs(frame()[lambda f: f["backend"] != "late"])
    factors = backend_factors(costs)
    assert factors["a"] == factors["b"] == 1.0 and 4.0 < factors["slow"] < 6.0
    model = next(m for m in suite_models("standard") if m not in set(costs["model"]))
    one = estimate([SimpleNamespace(model=model, backend="a")], 1e9, 1, costs)
    slow = estimate([SimpleNamespace(model=model, backend="slow")], 1e9, 1, costs)
    assert one["estimated"] == 1 and abs(slow["seconds"] / one["seconds"] - factors["slow"]) < 1e-9


def test_the_standard_suite_covers_every_class():
    from harness.catalogue import get_model
    from harness.run.suites import STANDARD
    from harness.spec import TAGS

    assert suite_models("standard") == list(STANDARD)  # every standard model is in the catalogue
    covered = {tag for name in STANDARD for tag in get_model(name).tags}
    assert covered == set(TAGS), sorted(set(TAGS) - covered)
