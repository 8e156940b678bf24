"""Backend registry: each backend is one module behind the protocol in ``base.py``.

A backend is offered only when its imports are installed; asking for one that is not installed
raises an error that says what is missing and lists the backends that are available.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

from harness.errors import HarnessInputError

# registry key -> module; order is the order of tables and reports
REGISTRY: dict[str, str] = {
    "pymc": "harness.backends.pymc",
    "nutpie": "harness.backends.nutpie",
    "pymc-numpyro": "harness.backends.pymc_numpyro",
    "pymc-blackjax": "harness.backends.pymc_blackjax",
    "numpyro": "harness.backends.numpyro",
    "blackjax": "harness.backends.blackjax",
    "pyro": "harness.backends.pyro",
    "stan": "harness.backends.stan",
    "cmdstanpy": "harness.backends.stan_cmdstanpy",
}

# Extra backends without editing this file: PPL_HARNESS_EXTRA_BACKENDS="name=package.module,..."
# (plugins, and the deliberately broken backends of the test suite).
for _entry in filter(None, os.environ.get("PPL_HARNESS_EXTRA_BACKENDS", "").split(",")):
    _name, _, _module = _entry.partition("=")
    REGISTRY[_name.strip()] = _module.strip()



class UnknownBackendError(HarnessInputError):
    pass


class BackendUnavailableError(RuntimeError):
    pass


def backend_names() -> list[str]:
    return list(REGISTRY)


def default_backends() -> list[str]:
    """What runs when no backends are named: every registered backend except those declaring DEFAULT = False."""
    return [name for name in REGISTRY if getattr(load_module(name), "DEFAULT", True)]


def families() -> dict[str, str]:
    """{family: model file} over the registry: the implementation files every catalogue model must have."""
    out: dict[str, str] = {}
    for name in REGISTRY:
        module = load_module(name)
        if getattr(module, "MODEL_FILE", None):
            out.setdefault(module.FAMILY, module.MODEL_FILE)
    return out


def packages() -> list[str]:
    """Distribution names whose versions the registered backends ask provenance to record."""
    return list(dict.fromkeys(p for name in REGISTRY for p in getattr(load_module(name), "PACKAGES", ())))


def load_module(name: str) -> ModuleType:
    """The backend module (cheap: libraries are imported lazily inside its functions)."""
    if name not in REGISTRY:
        raise UnknownBackendError(f"unknown backend {name!r}; valid backends: {', '.join(REGISTRY)}")
    return importlib.import_module(REGISTRY[name])


def unavailable_reason(name: str) -> str | None:
    """None if the backend can run here, else why not (missing imports, no CmdStan, ...)."""
    module = load_module(name)
    missing = [mod for mod in module.REQUIRES if importlib.util.find_spec(mod) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (pip install 'ppl-harness[{module.FAMILY}]')"
    check = getattr(module, "unavailable_reason", None)
    return check() if check else None


def availability() -> dict[str, str | None]:
    """{backend: None if usable here, else the reason it is not}."""
    return {name: unavailable_reason(name) for name in REGISTRY}


def get_backend(name: str) -> ModuleType:
    """The backend module, or an error naming what is missing and what is available."""
    module = load_module(name)
    reason = unavailable_reason(name)
    if reason:
        usable = [n for n, why in availability().items() if why is None]
        raise BackendUnavailableError(
            f"backend {name!r} is unavailable here: {reason}; available backends: {', '.join(usable) or 'none'}"
        )
    return module
