"""Micro-benchmarks run only on request: ``pytest tests/benchmarks --run-perf`` (or ``nox -s perf``).

Without ``--run-perf`` (or ``PPL_HARNESS_PERF=1``) every test here is skipped, so the normal test
session never spends time on them. With it, the process gets the same one-core thread environment
as a benchmark cell (``harness.threads.worker_env``) before any backend library is imported.
"""

import os

import pytest


def perf_requested(config) -> bool:
    return bool(config.getoption("--run-perf", default=False)) or os.environ.get("PPL_HARNESS_PERF") == "1"


def pytest_configure(config):
    if perf_requested(config):
        from harness.threads import worker_env

        os.environ.update(worker_env(1, "cpu", {}))


@pytest.fixture(autouse=True)
def _only_with_run_perf(request):
    if not perf_requested(request.config):
        pytest.skip("micro-benchmark: run with `pytest tests/benchmarks --run-perf` or `nox -s perf`")
