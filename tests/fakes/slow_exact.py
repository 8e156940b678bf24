"""``fake_sleepy``: a test backend like ``fake_exact`` that takes its time: kill points of the fault tests are reachable.

``compile`` and ``sample`` each sleep ``PPL_FAKE_SLOW_S`` seconds (default 0.5). When
``PPL_FAKE_MARKERS`` names a folder, each phase first drops a file there (``compile-<pid>``,
``sample-<seed>-<pid>``), so a test can kill the runner while a cell is compiling or sampling.
"""

import os
import time
from pathlib import Path

from harness.backends.base import Capabilities  # noqa: E402
from tests.fakes import exact

CAPABILITIES = Capabilities(name="fake_sleepy", family="fake", requires=(), packages=(), extra="test", default=False)
versions = exact.versions
log_density = exact.log_density


def _mark(name: str) -> None:
    folder = os.environ.get("PPL_FAKE_MARKERS")
    if folder:
        Path(folder, name).touch()


def _pause() -> None:
    time.sleep(float(os.environ.get("PPL_FAKE_SLOW_S", "0.5")))


def compile(spec, data, settings):
    _mark(f"compile-{os.getpid()}")
    _pause()
    return exact.compile(spec, data, settings)


def sample(compiled, data, settings, seed):
    _mark(f"sample-{seed}-{os.getpid()}")
    _pause()
    return exact.sample(compiled, data, settings, seed)
