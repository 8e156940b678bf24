"""The built-in backends, one line each, typed: mypy checks every module against ``Backend``.

Adding a backend: its module, one line here, its extra in ``pyproject.toml``. Registry order is the
order of every table and report. Plugins register without editing this file through
``PPL_HARNESS_EXTRA_BACKENDS`` (``harness.backends``).
"""

from __future__ import annotations

from harness.backends import blackjax, numpyro, nutpie, pymc, pymc_blackjax, pymc_numpyro, pyro, stan, stan_cmdstanpy
from harness.backends.base import Backend

BUILTIN: tuple[Backend, ...] = (
    pymc,
    nutpie,
    pymc_numpyro,
    pymc_blackjax,
    numpyro,
    blackjax,
    pyro,
    stan,
    stan_cmdstanpy,
)
