"""Deliberately wrong copies of catalogue models must each be flagged by ``harness.equivalence``.

One mutation per copy, in one backend's implementation file (see ``tests/mutants.py``): a prior scale
off by 0.1%, a support bound changed, a likelihood scale off by 0.1%, a prior term missing, a
log-Jacobian missing. Each is checked against an unmutated backend of another family, so the clean
backend must still agree with the reference while the mutated one is flagged by the named checks.
The Stan mutant (a changed bound; one C++ build) is marked slow. The numeric checks run without the
declaration check, which catches a changed bound first (``Mutant.declared``): both must see it.
"""

import pytest

from harness.backends import availability
from harness.equivalence import REFERENCE, check_long, summarise
from harness.equivalence.declaration import declaration_rows
from tests.mutants import FAST, STAN, install

AVAILABLE = {b for b, why in availability().items() if why is None}


def _flags(mutant, backends):
    long = check_long([mutant.name], backends, n_points=5, seed=3, declaration=False)
    table = summarise(long)
    row = table[(table["a"] == REFERENCE) & (table["b"] == mutant.backend)].iloc[0]
    return long, table, row


def _assert_caught(mutant, backends):
    long, table, row = _flags(mutant, backends)
    assert row["status"] == "fail", f"{mutant.name} passed: {row.to_dict()}"
    failed = set(row["check"].split(","))
    assert set(mutant.caught_by) <= failed, f"{mutant.name}: flagged by {failed}, expected {mutant.caught_by}"
    declared = declaration_rows(mutant.name, backends)
    declared_fail = {r["b"] for r in declared if r["status"] == "fail"}
    assert declared_fail <= {mutant.backend}, f"{mutant.name}: the declaration check flags {declared_fail}"
    if mutant.declared:
        assert mutant.backend in declared_fail, f"{mutant.name}: the declaration check missed it: {declared}"
    for clean in set(backends) - {mutant.backend}:
        ok = table[(table["a"] == REFERENCE) & (table["b"] == clean)].iloc[0]
        assert ok["status"] == "pass", f"{mutant.name}: the clean backend {clean} failed: {ok['error']}"
    # a moved bound changes the unconstrained map: gradients are compared only on blocks where two
    # backends share one map, so the transform and potential checks are what flag it
    if "gradient" in set(long["check"]) and "transform" not in mutant.caught_by:
        pair = long[(long["check"] == "gradient") & long["a"].isin(backends) & long["b"].isin(backends)]
        assert (pair["status"] == "fail").any(), f"{mutant.name}: the pairwise gradients agree"
    return failed


@pytest.mark.parametrize("mutant", FAST, ids=[m.name for m in FAST])
def test_a_mutant_is_flagged(mutant, tmp_path, monkeypatch):
    backends = ["pymc", "numpyro"]
    missing = [b for b in backends if b not in AVAILABLE]
    if missing:
        pytest.skip(f"needs {missing}")
    install(tmp_path, monkeypatch, mutant)
    _assert_caught(mutant, backends)


@pytest.mark.slow
def test_a_stan_mutant_is_flagged(tmp_path, monkeypatch):
    backends = ["numpyro", "stan"]
    if not set(backends) <= AVAILABLE:
        pytest.skip("needs numpyro and stan")
    install(tmp_path, monkeypatch, STAN)
    _assert_caught(STAN, backends)
