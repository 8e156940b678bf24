"""The model contract: what every catalogue entry declares once, independent of any backend.

A model folder ``models/<name>/`` holds ``model.py`` (this declaration), one implementation file per
backend (``pymc_model.py``, ``numpyro_model.py``, ``pyro_model.py``, ``model.stan``) and nothing
else that defines the density. ``model.py`` exposes ``SPEC: ModelSpec``.

Conventions every implementation follows (checked by ``tests/test_equivalence.py``):

* ``data`` is a dict of numpy arrays and Python scalars; the same dict reaches every backend.
  Integer index arrays are 0-based; the Stan implementation gets them through ``stan_data``.
* Free parameters are the coordinates of the joint log density, named and shaped exactly as in
  ``ModelSpec.params``, on the constrained scale. Draws are returned ``(chain, draw, *shape)``.
* Derived quantities (``ModelSpec.derived``, e.g. ``theta`` of a non-centred model) are computed by
  ``ModelSpec.derive`` from the free parameters, once, for every backend.
* ``log_prior`` + ``log_likelihood`` is the numpy reference of the joint log density, constrained
  scale, no Jacobian; backends may differ from it only by a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Data = dict[str, Any]
Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Param:
    """One named parameter.

    ``shape`` may name data sizes (e.g. ``("J",)`` or ``("D",)``); ``resolve_shape`` turns them into
    ints using the data dict. ``support`` is ``"real"``, ``"positive"`` or ``"interval(a, b)"``.
    """

    name: str
    shape: tuple[int | str, ...] = ()
    support: str = "real"

    def resolve_shape(self, data: Data) -> tuple[int, ...]:
        return tuple(int(data[s]) if isinstance(s, str) else int(s) for s in self.shape)


@dataclass(frozen=True)
class ModelSpec:
    """A catalogue model, declared once.

    Attributes:
        name: the catalogue key; one name means one log density forever.
        description: one line for ``harness list`` and reports.
        params: free parameters, the log-density coordinates.
        derived: deterministic quantities reported alongside (may be empty).
        make_data: ``(rng, **size) -> data`` the benchmark data set, simulated from a fixed seed.
        sample_prior: ``(rng, data) -> params`` one draw of the free parameters from the prior.
        simulate: ``(rng, params, data) -> data`` data drawn from the likelihood at ``params``; keeps
            every non-simulated entry of ``data``.
        log_prior: ``(params, data) -> float`` reference log prior density, constrained, no Jacobian.
        log_likelihood: ``(params, data) -> float`` reference log likelihood.
        derive: ``(params, data) -> dict`` derived quantities; ``None`` when ``derived`` is empty.
        stan_data: ``data -> dict`` what the ``.stan`` program's data block reads.
        size_defaults: size arguments of ``make_data`` (empty for fixed-size models).
        data_seed: seed of the benchmark data set.
        observed: names of the data entries that ``simulate`` replaces.
    """

    name: str
    description: str
    params: tuple[Param, ...]
    make_data: Callable[..., Data]
    sample_prior: Callable[[np.random.Generator, Data], Params]
    simulate: Callable[[np.random.Generator, Params, Data], Data]
    log_prior: Callable[[Params, Data], float]
    log_likelihood: Callable[[Params, Data], float]
    observed: tuple[str, ...]
    derived: tuple[Param, ...] = ()
    derive: Callable[[Params, Data], Params] | None = None
    stan_data: Callable[[Data], Mapping[str, Any]] = dict
    size_defaults: Mapping[str, int] = field(default_factory=dict)
    data_seed: int = 20261121

    def data(self, **size: int) -> Data:
        """The benchmark data set (fixed seed, identical for every backend)."""
        unknown = set(size) - set(self.size_defaults)
        if unknown:
            valid = ", ".join(sorted(self.size_defaults)) or "none"
            raise ValueError(f"model {self.name!r} has no size argument(s) {sorted(unknown)}; valid: {valid}")
        kwargs = {**self.size_defaults, **size}
        return self.make_data(np.random.default_rng(self.data_seed), **kwargs)

    def log_density(self, params: Params, data: Data) -> float:
        """Reference joint log density (constrained scale, no Jacobian)."""
        return float(self.log_prior(params, data) + self.log_likelihood(params, data))

    def reported(self) -> tuple[Param, ...]:
        """Every quantity a fit reports: free parameters then derived ones."""
        return self.params + self.derived

    def with_derived(self, params: Params, data: Data) -> Params:
        """``params`` plus the derived quantities, for one point or a stack of draws.

        ``params`` values may carry leading batch axes (e.g. chain, draw); ``derive`` must broadcast.
        """
        out = dict(params)
        if self.derive is not None:
            out.update(self.derive(params, data))
        return out
