"""Static check of the backend contract: mypy verifies that each backend module satisfies ``Backend``.

Not imported at run time (``nox -s lint`` type-checks it). A new backend module gets one line here.
"""

from __future__ import annotations

from harness.backends import (
    blackjax,
    numpyro,
    nutpie,
    pymc,
    pymc_blackjax,
    pymc_numpyro,
    pyro,
    stan,
    stan_cmdstanpy,
)
from harness.backends.base import Backend

MODULES: list[Backend] = [
    pymc, nutpie, pymc_numpyro, pymc_blackjax, numpyro, blackjax, pyro, stan, stan_cmdstanpy,
]
