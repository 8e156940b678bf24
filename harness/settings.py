"""Sampler and run settings shared by every backend, validated before any work starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.errors import HarnessInputError

DEVICES = ("cpu", "gpu")


class SettingsError(HarnessInputError):
    """Invalid user input (settings, names, files): reported before any work starts."""


@dataclass(frozen=True)
class SamplerSettings:
    """The NUTS settings every backend receives unchanged.

    chains, warmup, draws: chains and iterations per chain (warm-up iterations are discarded).
    target_accept: step-size adaptation target (Stan's adapt_delta).
    max_treedepth: NUTS maximum tree depth.
    device: "cpu" or "gpu" (only backends on JAX or torch run on a GPU).
    cores: core budget of one cell; threads and parallel chains are capped at it.
    """

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    target_accept: float = 0.8
    max_treedepth: int = 10
    device: str = "cpu"
    cores: int = 1

    def __post_init__(self):
        for name in ("chains", "draws", "max_treedepth", "cores"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.warmup, int) or isinstance(self.warmup, bool) or self.warmup < 1:
            raise SettingsError(f"warmup must be a positive integer, got {self.warmup!r}")
        if not 0.0 < float(self.target_accept) < 1.0:
            raise SettingsError(f"target_accept must lie strictly between 0 and 1, got {self.target_accept!r}")
        if self.device not in DEVICES:
            raise SettingsError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")

    def to_dict(self) -> dict:
        return asdict(self)
