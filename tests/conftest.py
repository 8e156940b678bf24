"""Shared test set-up: the fake backends are registered for this process and its workers."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAKE_BACKENDS = {
    "fake_exact": "tests.fakes.exact",
    "fake_raise": "tests.fakes.broken_raise",
    "fake_crash": "tests.fakes.broken_crash",
    "fake_hang": "tests.fakes.broken_hang",
    "fake_nan": "tests.fakes.broken_nan",
    "fake_missing": "tests.fakes.missing",
    "fake_sleepy": "tests.fakes.slow_exact",
    "fake_kill_once": "tests.fakes.kill_once",
    "fake_kill_always": "tests.fakes.kill_always",
    "mutant_scale": "tests.fakes.mutant_scale",
    "mutant_shift": "tests.fakes.mutant_shift",
    "mutant_half_variance": "tests.fakes.mutant_half_variance",
    "mutant_stuck_chain": "tests.fakes.mutant_stuck_chain",
}

# Set before harness.backends is imported anywhere, and inherited by worker processes; backends the
# caller registered (plugins) are kept.
_extra = [e for e in os.environ.get("PPL_HARNESS_EXTRA_BACKENDS", "").split(",") if e and e.split("=")[0] not in FAKE_BACKENDS]
os.environ["PPL_HARNESS_EXTRA_BACKENDS"] = ",".join([*(f"{k}={v}" for k, v in FAKE_BACKENDS.items()), *_extra])
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    parser.addoption("--run-perf", action="store_true", default=False,
                     help="run the micro-benchmarks in tests/benchmarks (nox -s perf)")


def pytest_collection_modifyitems(config, items):
    """A case parametrised by a catalogue model (a ``model`` or ``name`` argument) outside the
    regression gate's quick suite is marked ``catalogue``: ``nox -s tests_oldest`` leaves those out,
    so the oldest stack tests the harness on the quick suite's models, and the newest stack tests
    every model's ports."""
    import pytest

    from harness.catalogue import model_names
    from harness.compare.quick import QUICK_SUITE

    catalogue = set(model_names()) - set(QUICK_SUITE["models"])
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(params.get(key) in catalogue for key in ("model", "name") if isinstance(params.get(key), str)):
            item.add_marker(pytest.mark.catalogue)
