"""Which backends each part of gpu-check runs, chosen by what their modules declare (never by name).

- crossover: ``"gpu" in CAPABILITIES.devices``;
- chains scaling: ``CAPABILITIES.vectorized_chains`` (chains run as one vectorised program);
- SBC throughput: the module satisfies ``SupportsBatch`` (many data sets in one call).

Test fakes (``CAPABILITIES.default`` False) never run here. Backends that cannot run on
this machine are left out with the reason, which the summary reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.backends import REGISTRY, load_module, unavailable_reason
from harness.backends.base import SupportsBatch, SupportsDeviceMemory

CAPABILITIES = ("gpu", "vectorized_chains", "sample_batch")


def is_fake(module) -> bool:
    return not module.CAPABILITIES.default


def has_capability(module, capability: str) -> bool:
    if capability == "gpu":
        return "gpu" in module.CAPABILITIES.devices
    if capability == "vectorized_chains":
        return module.CAPABILITIES.vectorized_chains
    if capability == "sample_batch":
        return isinstance(module, SupportsBatch)
    raise ValueError(f"unknown capability {capability!r}; valid: {', '.join(CAPABILITIES)}")


@dataclass
class Selection:
    """Backends of one part: ``run`` (in registry order) and ``not_run`` {name: why}."""

    capability: str
    run: list[str] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"capability": self.capability, "run": list(self.run), "not_run": dict(self.not_run)}


def select(capability: str, only: list[str] | None = None) -> Selection:
    """Registered, non-fake backends with ``capability`` that can run here (``only``: a user's subset)."""
    out = Selection(capability)
    for name in REGISTRY:
        if only is not None and name not in only:
            continue
        try:
            module = load_module(name)
        except Exception as err:  # a broken plugin module is reported, not fatal
            out.not_run[name] = f"cannot import its module: {type(err).__name__}: {err}"
            continue
        if is_fake(module) or not has_capability(module, capability):
            continue
        reason = unavailable_reason(name)
        if reason:
            out.not_run[name] = reason
        else:
            out.run.append(name)
    return out


def missing_declarations() -> dict[str, list[str]]:
    """{backend: capabilities it lacks} over the non-fake GPU-capable backends (a hint for the summary)."""
    out = {}
    for name in REGISTRY:
        try:
            module = load_module(name)
        except Exception:
            continue
        if is_fake(module) or not has_capability(module, "gpu"):
            continue
        lacking = [c for c in ("vectorized_chains", "sample_batch") if not has_capability(module, c)]
        if not isinstance(module, SupportsDeviceMemory):
            lacking.append("peak_device_memory_mb")
        if lacking:
            out[name] = lacking
    return out
