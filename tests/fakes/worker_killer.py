"""Test backends that kill the *Dask worker* running their cell (the cell process's parent), not just the cell.

``fake_kill_once`` kills it the first time a given seed samples (a marker in ``PPL_FAKE_KILLS`` remembers)
and samples exactly on the retry; ``fake_kill_always`` kills every worker that runs it. Only meaningful
under the Dask runner, whose worker processes start cells.
"""

import os
import signal
from pathlib import Path

from tests.fakes import exact

versions = exact.versions
log_density = exact.log_density
compile = exact.compile


def _kill_parent() -> None:
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(137)


def make(mode):
    def sample(compiled, data, settings, seed):
        if mode == "always":
            if os.environ.get("PPL_FAKE_KILLS"):
                Path(os.environ["PPL_FAKE_KILLS"], f"kill-{os.getpid()}").touch()
            _kill_parent()
        marker = Path(os.environ["PPL_FAKE_KILLS"], f"killed-{seed}")
        if not marker.exists():
            marker.touch()
            _kill_parent()
        return exact.sample(compiled, data, settings, seed)

    return sample
