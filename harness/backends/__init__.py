"""Backend registry: each backend is one module behind the typed contract in ``base.py``.

The built-in backends are listed in ``registry.py``; plugins (and the deliberately broken backends of
the test suite) are added with ``PPL_HARNESS_EXTRA_BACKENDS="name=package.module,..."``. A backend is
offered only when its imports are installed: asking for one that is not gives an error that names the
install command of its own extra and lists the backends that are available.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from functools import cache

from harness.backends.base import Backend, Capabilities, optional_hook
from harness.errors import HarnessInputError

__all__ = ["Backend", "BackendUnavailableError", "Capabilities", "REGISTRY", "UnknownBackendError", "availability",
           "backend_names", "capabilities", "default_backends", "family_hook", "get_backend", "load_module", "optional_hook",
           "packages", "unavailable_reason", "validate_backends"]


def _registry() -> dict[str, str]:
    from harness.backends.registry import BUILTIN

    out = {module.CAPABILITIES.name: module.__name__ for module in BUILTIN}  # type: ignore[attr-defined]
    for entry in filter(None, os.environ.get("PPL_HARNESS_EXTRA_BACKENDS", "").split(",")):
        name, _, module = entry.partition("=")
        out[name.strip()] = module.strip()
    return out


# registry key -> module path; order is the order of tables and reports
REGISTRY: dict[str, str] = _registry()


class UnknownBackendError(HarnessInputError):
    pass


class BackendUnavailableError(HarnessInputError):
    """A known backend that cannot run here; the message says why and how to install it."""


def backend_names() -> list[str]:
    return list(REGISTRY)


@cache
def load_module(name: str) -> Backend:
    """The backend module (cheap: libraries are imported lazily inside its functions)."""
    if name not in REGISTRY:
        raise UnknownBackendError(f"unknown backend {name!r}; valid backends: {', '.join(REGISTRY)}")
    module = importlib.import_module(REGISTRY[name])
    caps = getattr(module, "CAPABILITIES", None)
    if not isinstance(caps, Capabilities) or caps.name != name:
        raise UnknownBackendError(f"backend module {REGISTRY[name]} ({name!r}) declares no CAPABILITIES = "
                                  f"Capabilities(name={name!r}, ...) (harness/backends/base.py)")
    return module  # type: ignore[return-value]  # a module satisfying the Protocol (conformance suite)


def capabilities(name: str) -> Capabilities:
    return load_module(name).CAPABILITIES


def default_backends() -> list[str]:
    """What runs when no backends are named: every registered backend whose capabilities say ``default``."""
    return [name for name in REGISTRY if capabilities(name).default]


def packages() -> list[str]:
    """Distribution names whose versions the registered backends ask provenance to record."""
    return list(dict.fromkeys(p for name in REGISTRY for p in capabilities(name).packages))


def unavailable_reason(name: str) -> str | None:
    """None if the backend can run here, else why not (missing imports with the install command, no CmdStan, ...)."""
    module = load_module(name)
    caps = module.CAPABILITIES
    missing = [mod for mod in caps.requires if importlib.util.find_spec(mod) is None]
    if missing:
        return f"not installed: {', '.join(missing)} ({caps.install_hint()})"
    check = optional_hook(module, "unavailable_reason")
    return check() if check else None


def availability() -> dict[str, str | None]:
    """{backend: None if usable here, else the reason it is not}."""
    return {name: unavailable_reason(name) for name in REGISTRY}


def get_backend(name: str) -> Backend:
    """The backend module, or an error naming what is missing and what is available."""
    module = load_module(name)
    reason = unavailable_reason(name)
    if reason:
        usable = [n for n, why in availability().items() if why is None]
        raise BackendUnavailableError(
            f"backend {name!r} is unavailable here: {reason}; available backends: {', '.join(usable) or 'none'}"
        )
    return module


def validate_backends(backends: list[str]) -> None:
    """Backends exist (not necessarily installed), each once; errors list the valid choices."""
    if not backends:
        raise UnknownBackendError("no backends selected; valid backends: " + ", ".join(backend_names()))
    twice = sorted({n for n in backends if backends.count(n) > 1})
    if twice:
        raise HarnessInputError(f"backends listed more than once: {', '.join(twice)}")
    for name in backends:
        load_module(name)


def family_hook(family: str, hook: str) -> tuple[str, Callable] | None:
    """(backend name, function) of the first installed backend that samples ``family`` models and has
    the optional ``hook`` (``harness.backends.base.HOOKS``), else None."""
    for name in REGISTRY:
        if capabilities(name).family != family or unavailable_reason(name):
            continue
        fn = optional_hook(load_module(name), hook)
        if fn is not None:
            return name, fn
    return None
