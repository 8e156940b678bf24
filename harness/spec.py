"""The model contract: what every catalogue entry declares once, independent of any backend.

A model folder (``models/<name>/`` or a folder of an external catalogue, ``--catalogue DIR``) holds
``model.py`` (this declaration: ``SPEC = ModelSpec(...)``), one implementation file per family it
brings (``pymc_model.py``, ``numpyro_model.py``, ``pyro_model.py``, ``model.stan``), its fixed data
file if it has one, and a README naming the sources and licences of what it vendors. The written
contract is ``models/README.md``.

Conventions every implementation follows (checked by ``harness.equivalence``):

* ``data`` is a dict of numpy arrays and Python scalars; the same dict reaches every backend.
  Integer index arrays are 0-based; the Stan implementation gets them through ``stan_data``.
* Free parameters are the coordinates of the joint log density, named and shaped exactly as in
  ``ModelSpec.params``, on the constrained scale, each on its declared support
  (``harness.supports``). Draws are returned ``(chain, draw, *shape)``.
* Derived quantities (``ModelSpec.derived``, e.g. ``theta`` of a non-centred model) are computed by
  ``ModelSpec.derive`` from the free parameters, once, for every backend.
* ``log_prior`` + ``log_likelihood``, where the model has them, are the numpy reference of the joint
  log density, constrained scale, no Jacobian; backends may differ from it only by a constant.
  They are optional: where a numpy density is not cheap to write (ODEs, HMMs, GPs), the families are
  checked against each other.
* ``sample_prior`` and ``simulate`` are optional: with both, SBC runs; without, SBC says why not.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness import supports
from harness.errors import HarnessInputError

Data = dict[str, Any]
Params = dict[str, np.ndarray]

# model classes a declaration may carry (``harness list --tags gp,ode``; reports group by them)
TAGS = ("hierarchical", "glm", "gp", "time-series", "mixture", "ode", "irt", "sparse", "spatial", "survival",
        "funnel", "synthetic")
# size classes: unconstrained parameters d and observed values n of the default data set
SIZE_CLASSES = ("small", "medium", "large")
SIZE_RULE = "small: d <= 100 and n <= 1,000; large: d > 1,000 or n > 10,000; medium: the rest"
PRIORS = ("proper", "improper")
FAMILY_FILES = {"pymc": "pymc_model.py", "numpyro": "numpyro_model.py", "pyro": "pyro_model.py", "stan": "model.stan"}


class SpecError(HarnessInputError):
    """A declaration or its data that break the contract: the message names the model and the mismatch."""


def size_class_of(n_unconstrained: int, n_observed: int) -> str:
    """The size class of a model with ``n_unconstrained`` parameters and ``n_observed`` observed values."""
    if n_unconstrained > 1000 or n_observed > 10_000:
        return "large"
    if n_unconstrained <= 100 and n_observed <= 1000:
        return "small"
    return "medium"


@dataclass(frozen=True)
class Param:
    """One named parameter.

    ``shape`` may name data sizes (e.g. ``("J",)`` or ``("D",)``); ``resolve_shape`` turns them into
    ints using the data dict. ``support`` is a support text or object (``harness.supports``):
    ``"real"``, ``"positive"``, ``"interval(a, b)"``, ``"ordered"``, ``"simplex"``, ...
    """

    name: str
    shape: tuple[int | str, ...] = ()
    support: str | supports.Support = "real"

    def resolve_shape(self, data: Data) -> tuple[int, ...]:
        return tuple(int(data[s]) if isinstance(s, str) else int(s) for s in self.shape)

    @property
    def space(self) -> supports.Support:
        """The parsed support."""
        return supports.parse(self.support)

    def size(self, data: Data) -> int:
        return int(np.prod(self.resolve_shape(data), dtype=int))


def parse_size(text: str) -> dict[str, int]:
    """'N=1000,D=10' -> {'N': 1000, 'D': 10}; a clear error otherwise."""
    out = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"size {text!r} must look like N=1000,D=10")
        try:
            out[key.strip()] = int(float(value))
        except ValueError:
            raise SpecError(f"size {text!r}: {value!r} is not a number") from None
        if out[key.strip()] < 1:
            raise SpecError(f"size {text!r}: sizes must be positive")
    return out


@lru_cache(maxsize=16)
def _read_file(path: str, mtime: float) -> dict:
    """Raw contents of a data file: JSON (``.json``, posteriordb's ``.json.zip``), CSV columns or ``.npz``."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".json.zip"):
        with zipfile.ZipFile(p) as archive:
            members = [m for m in archive.namelist() if m.endswith(".json")]
            if len(members) != 1:
                raise SpecError(f"{p} must hold exactly one .json file, holds {archive.namelist()}")
            return json.loads(archive.read(members[0]))
    if name.endswith(".json"):
        return json.loads(p.read_text())
    if name.endswith(".csv"):
        import pandas as pd

        frame = pd.read_csv(p)
        return {str(c): frame[c].to_numpy() for c in frame.columns}
    if name.endswith(".npz"):
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    raise SpecError(f"data file {p}: unknown format (use .json, .json.zip, .csv or .npz)")


def read_data_file(path: Path) -> dict:
    """A data file's raw contents (cached by path and modification time); lists become numpy arrays."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"data file {path} does not exist")
    try:
        raw = _read_file(str(path), path.stat().st_mtime)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        if isinstance(err, SpecError):
            raise
        raise SpecError(f"data file {path} cannot be read: {err}") from None
    return {k: (np.array(v) if isinstance(v, list | np.ndarray) else v) for k, v in raw.items()}


@dataclass(frozen=True)
class ModelSpec:
    """A catalogue model, declared once.

    Attributes:
        name: the catalogue key; one name means one log density forever.
        description: one line for ``harness list`` and reports.
        params: free parameters, the log-density coordinates.
        observed: names of the data entries that are observed (simulated by ``simulate``).
        make_data: ``(rng, **size) -> data``, the benchmark data set, simulated from ``data_seed``; or
        data_file: a file in the model's folder (posteriordb's ``.json.zip`` kept as it is, ``.json``,
            ``.csv`` or ``.npz``), turned into ``data`` by ``prepare_data`` (default: as read).
        sample_prior: ``(rng, data) -> params`` one draw of the free parameters from the prior (optional).
        simulate: ``(rng, params, data) -> data`` data drawn from the likelihood at ``params``; keeps
            every non-observed entry of ``data`` (optional).
        log_prior, log_likelihood: ``(params, data) -> float`` numpy reference log density, constrained,
            no Jacobian (optional, both or neither).
        batched_density: ``log_prior`` and ``log_likelihood`` also take points stacked on one leading axis
            (``{name: (n, *shape)}``) and return (n,) arrays equal, bit for bit, to one call per point; SBC's
            rank step then evaluates all draws of a fit in one call.
        derived, derive: quantities computed from the free parameters (``derive`` broadcasts).
        stan_data: ``data -> dict`` what the ``.stan`` program's data block reads.
        size_defaults: size arguments of ``make_data`` (empty for fixed-size models).
        data_seed: seed of the benchmark data set.
        tags: model classes (``TAGS``). size_class: ``SIZE_CLASSES`` by ``SIZE_RULE``.
        prior: "proper", or "improper" (flat priors: no prior simulator, SBC not applicable).
        posteriordb: the posteriordb posterior this model is (``"arK-arK"``), else None.
        not_implemented: {family: reason} for families the model does not bring.
        exact_posterior: ``(rng, data, n) -> {name: (n, *shape)}`` independent draws from the exact
            posterior, for synthetic models whose posterior is known (Neal's funnel, a Gaussian);
            ``harness reference`` then stores exact draws instead of MCMC ones.
        simulator: a family (``"pymc"``, ``"numpyro"``, ``"stan"``) whose implementation simulates for SBC
            when ``sample_prior``/``simulate`` are not declared in numpy: its prior predictive (prior SBC)
            and its predictive at given parameters (posterior SBC; Stan: a generated quantity
            ``<observed>_rep`` per observed entry). ``harness new-model`` sets it.
        rows: posterior SBC appends a replicate to the observed data; that is valid when the
            observations are conditionally independent rows given the parameters. ``rows`` names the
            data entry (an int) that counts them, or is ``""`` when sizes come from array lengths;
            every array whose leading axis has the observed length is a row column. None (the
            default): not row data (time series, GPs, per-row parameters), posterior SBC not
            applicable unless ``augment`` is declared.
        augment: ``(data, replicate) -> data`` the observed data plus one replicate of the observed
            entries, for models whose data are not plain rows (optional; overrides ``rows``).
        numerical_rtol, numerical_rtol_reason: for a density computed by a numerical solver (an ODE),
            the relative error the families' solvers may differ by; it replaces the equivalence
            checks' relative tolerances where larger, and its reason is stated in every table.
        known_deviation: ``{family: (per_observation, reason)}``, a known, bounded deviation of a
            family's library from the exact density (e.g. Stan Math's ``bernoulli_logit_lpmf`` cutoff,
            stan-dev/math#3397). ``per_observation`` bounds, per observed value, how far one log density
            value or one gradient coordinate of that family may be from the exact one (so each may be
            off by at most ``per_observation x n_observed(data)``); it must account for the chain-rule
            factors between the observation's term and the unconstrained coordinates. Every equivalence
            comparison of a value or gradient of that family (density, support, potential, gradient,
            fd_gradient; against the reference or pairwise) adds that bound to its absolute tolerance once
            per such value compared (a difference ``lp[i] - lp[0]``: twice), and the reason, with
            the upstream reference, is stated in those rows' ``reference`` column. Other families'
            comparisons keep their tolerances. Requires ``observed``.
        folder: the model's folder (set by the catalogue when it loads the declaration).
    """

    name: str
    description: str
    params: tuple[Param, ...]
    make_data: Callable[..., Data] | None = None
    sample_prior: Callable[[np.random.Generator, Data], Params] | None = None
    simulate: Callable[[np.random.Generator, Params, Data], Data] | None = None
    log_prior: Callable[[Params, Data], float] | None = None
    log_likelihood: Callable[[Params, Data], float] | None = None
    observed: tuple[str, ...] = ()
    derived: tuple[Param, ...] = ()
    derive: Callable[[Params, Data], Params] | None = None
    batched_density: bool = False
    stan_data: Callable[[Data], Mapping[str, Any]] = dict
    size_defaults: Mapping[str, int] = field(default_factory=dict)
    data_seed: int = 20261121
    data_file: str | None = None
    prepare_data: Callable[[dict], Data] | None = None
    tags: tuple[str, ...] = ()
    size_class: str = "small"
    prior: str = "proper"
    posteriordb: str | None = None
    not_implemented: Mapping[str, str] = field(default_factory=dict)
    exact_posterior: Callable[[np.random.Generator, Data, int], Params] | None = None
    simulator: str | None = None
    rows: str | None = None
    augment: Callable[[Data, Data], Data] | None = None
    numerical_rtol: float = 0.0
    numerical_rtol_reason: str = ""
    known_deviation: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    folder: Path | None = None

    # ------------------------------------------------------------ data

    def data(self, **size: int) -> Data:
        """The benchmark data set (fixed seed or fixed file, identical for every backend)."""
        unknown = set(size) - set(self.size_defaults)
        if unknown:
            valid = ", ".join(sorted(self.size_defaults)) or "none (a fixed-size model)"
            raise SpecError(f"model {self.name!r} has no size argument(s) {sorted(unknown)}; valid: {valid}")
        if self.data_file is not None:
            if self.folder is None:
                raise SpecError(f"model {self.name!r} reads {self.data_file} but has no folder")
            raw = read_data_file(Path(self.folder) / self.data_file)
            return dict(self.prepare_data(raw) if self.prepare_data else raw)
        if self.make_data is None:
            raise SpecError(f"model {self.name!r} declares neither make_data nor data_file")
        kwargs = {**self.size_defaults, **size}
        return self.make_data(np.random.default_rng(self.data_seed), **kwargs)

    def size_label(self, size: Mapping[str, int] | None = None) -> str:
        """'N=1000,D=10' for size-scalable models (defaults filled in), '' for fixed-size ones."""
        full = {**self.size_defaults, **(size or {})}
        return ",".join(f"{k}={v}" for k, v in full.items())

    def parse_size(self, text: str) -> dict[str, int]:
        """'N=1000' -> {'N': 1000}, checked against this model's size arguments."""
        size = parse_size(text)
        unknown = set(size) - set(self.size_defaults)
        if unknown:
            valid = ", ".join(sorted(self.size_defaults)) or "none (a fixed-size model)"
            raise SpecError(f"model {self.name!r} has no size argument(s) {sorted(unknown)}; valid: {valid}")
        return size

    # ------------------------------------------------------------ what the model offers

    @property
    def has_density(self) -> bool:
        """A numpy reference log density (``log_prior`` and ``log_likelihood``) is declared."""
        return self.log_prior is not None and self.log_likelihood is not None

    def sbc_not_applicable(self, method: str = "prior") -> str | None:
        """Why SBC (``method`` "prior" or "posterior") cannot run on this model, or None when its
        declaration allows it (``harness.sbc.simulation`` also checks that a simulating family is installed)."""
        if not self.observed:
            return "not applicable: no observed data declared"
        if method == "posterior":
            if self.simulate is None and self.simulator is None:
                return "not applicable: no simulator of the likelihood (simulate or simulator)"
            if self.rows is None and self.augment is None:
                return ("not applicable: the observations are not declared as exchangeable rows "
                        "(ModelSpec.rows or augment)")
            return None
        if self.prior == "improper":
            return "not applicable: improper prior"
        if (self.sample_prior is None or self.simulate is None) and self.simulator is None:
            return "not applicable: no prior simulator"
        return None

    def log_density(self, params: Params, data: Data) -> float:
        """Reference joint log density (constrained scale, no Jacobian)."""
        if not self.has_density:
            raise SpecError(f"model {self.name!r} declares no numpy log density")
        assert self.log_prior is not None and self.log_likelihood is not None
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

    def n_unconstrained(self, data: Data) -> int:
        """Dimension of the sampler's space: the unconstrained sizes of every free parameter."""
        return sum(p.space.unconstrained_size(p.resolve_shape(data)) for p in self.params)

    def n_observed(self, data: Data) -> int:
        return int(sum(np.size(data[k]) for k in self.observed if k in data))

    def deviation_allowance(self, family: str, data: Data) -> float:
        """The bound on one value or gradient coordinate of ``family`` from its declared known deviation:
        ``per_observation x n_observed(data)``; 0.0 for a family without one."""
        if family not in self.known_deviation:
            return 0.0
        return float(self.known_deviation[family][0]) * self.n_observed(data)
