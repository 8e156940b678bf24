"""What an SBC run does: the plan (``sbc.json``), its checks, its tasks and the confirmation stage's size.

Work is split into tasks (``harness.sbc.worker.Task``): fixed-boundary batches of ``batch`` replicates
for backends with ``sample_batch`` (NumPyro: one vectorised call per batch), one replicate per task
otherwise. Seeds and batch boundaries depend only on the plan (root seed, model, replicate, stage), never
on what ran before or on which worker, so a resumed run, or a run on any number of workers, ends with the
same ranks as an uninterrupted run on one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.backends import get_backend, load_module, validate_backends
from harness.backends.base import SupportsBatch
from harness.catalogue import validate_models
from harness.paths import sbc_root, stamped
from harness.sbc import power, stats
from harness.sbc.ranks import DEFAULT_KEPT
from harness.sbc.store import combo_key
from harness.sbc.worker import Task
from harness.settings import SamplerSettings, SettingsError

# Replicates per backend of the default run (``python -m harness sbc`` = ``nox -s sbc``): each
# backend's SBC_REPLICATES, sized from measured costs on this 2-core machine (1 chain x 500 warm-up x
# 500 draws; README "SBC cost per backend"). Every backend compiles once per worker and data shape.
# Median seconds per replicate on eight_schools_noncentered, one core, compile excluded: pymc-numpyro
# and pymc-blackjax 0.02, BlackJAX 0.03, NumPyro 0.04, nutpie and cmdstanpy 0.05, PyStan 0.18, PyMC
# 0.27 (its Python NUTS loop), Pyro 4.6 (0.8-10 over the catalogue). Pyro's 20 replicates per model
# (7 min for the catalogue on two workers) can pass only weakly; run it longer with --sims and
# --resume, or on a cluster (--scheduler).
SBC_CHAINS, SBC_WARMUP, SBC_DRAWS = 1, 500, 500
DEFAULT_BATCH = 10
DEFAULT_TIMEOUT_S = 600.0  # seconds per task (one batch or replicate) before its fit process is killed


@dataclass
class SBCPlan:
    """What an SBC run does; stored as ``sbc.json`` and read back on resume.

    method: "prior" (truths from the prior) or "posterior" (truths from the reference posterior, fits on
    the observed data plus a replicate; ``harness.sbc.simulation``). sims: replicates per backend. settings: the NUTS settings every fit uses (``cores`` is 1: each
    fit runs on one core). kept: L, draws kept per replicate. batch: replicates per vectorised call for
    backends with ``sample_batch``. timeout_s: seconds per task. confirm: {combo_key: replicates} of the
    confirmation stage.
    """

    models: list[str]
    backends: list[str]
    sims: dict[str, int]
    settings: SamplerSettings = field(default_factory=lambda: SamplerSettings(
        chains=SBC_CHAINS, warmup=SBC_WARMUP, draws=SBC_DRAWS, cores=1))
    kept: int = DEFAULT_KEPT
    alpha: float = stats.DEFAULT_ALPHA
    root_seed: int = 0
    batch: int = DEFAULT_BATCH
    timeout_s: float = DEFAULT_TIMEOUT_S
    confirm: dict[str, int] = field(default_factory=dict)  # combo_key -> confirmation replicates
    method: str = "prior"  # "prior" or "posterior" SBC (harness.sbc.simulation)
    catalogues: list[str] = field(default_factory=list)  # external catalogue directories (applied on resume)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["settings"] = self.settings.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> SBCPlan:
        d = dict(d)
        d["settings"] = SamplerSettings(**d["settings"])
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    def sims_for(self, backend: str) -> int:
        return int(self.sims[backend])

    def settings_text(self) -> str:
        s = self.settings
        return (f"method={self.method} chains={s.chains} warmup={s.warmup} draws={s.draws} "
                f"target_accept={s.target_accept} max_treedepth={s.max_treedepth} kept={self.kept} "
                f"seed={self.root_seed} batch={self.batch}")


def default_sims(backends: list[str]) -> dict[str, int]:
    """{backend: replicates per model}: each backend module's ``SBC_REPLICATES`` (sized for its cost)."""
    return {b: load_module(b).CAPABILITIES.sbc_replicates for b in backends}


def validate(plan: SBCPlan) -> None:
    """Every name and number is checked before any work starts."""
    from harness.sbc.simulation import METHODS

    if plan.method not in METHODS:
        raise SettingsError(f"SBC method {plan.method!r}; valid: {', '.join(METHODS)}")
    validate_models(plan.models)
    validate_backends(plan.backends)
    for name in plan.backends:
        module = load_module(name)
        get_backend(name)  # an uninstalled backend is an error before any work starts
        if plan.settings.device not in module.CAPABILITIES.devices:
            raise SettingsError(f"backend {name!r} runs on {', '.join(module.CAPABILITIES.devices)} only, "
                                f"not {plan.settings.device}")
        if name not in plan.sims:
            raise SettingsError(f"no number of replicates for backend {name!r}")
    for name, n in plan.sims.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise SettingsError(f"sims must be a positive integer, got {n!r} for {name}")
    if not isinstance(plan.kept, int) or plan.kept < 1:
        raise SettingsError(f"kept draws L must be a positive integer, got {plan.kept!r}")
    if plan.settings.chains * plan.settings.draws < plan.kept:
        raise SettingsError(
            f"chains x draws = {plan.settings.chains * plan.settings.draws} is less than the "
            f"{plan.kept} draws kept per replicate; raise --draws or lower --kept")
    if not 0.0 < plan.alpha < 1.0:
        raise SettingsError(f"alpha must lie strictly between 0 and 1, got {plan.alpha!r}")
    if not isinstance(plan.batch, int) or plan.batch < 1:
        raise SettingsError(f"batch must be a positive integer, got {plan.batch!r}")
    if not plan.timeout_s > 0:
        raise SettingsError(f"timeout must be positive, got {plan.timeout_s!r}")


def default_run_dir() -> Path:
    return stamped(sbc_root())


def skip_reason(plan: SBCPlan, model: str, backend: str) -> str | None:
    """Why a model x backend of the plan runs no replicate, or None when it runs: SBC not applicable
    to the model ("not applicable: ..."), the model not bringing the backend's family ("not
    implemented: ..."), or, for posterior SBC, no stored reference posterior to draw truths from."""
    from harness.catalogue import get_model, missing_family_reason, models_option, reference_dir
    from harness.sbc.simulation import not_applicable
    from harness.spec import FAMILY_FILES

    spec = get_model(model)
    reason = not_applicable(spec, plan.method)
    if reason:
        return reason
    family = load_module(backend).CAPABILITIES.family
    missing = missing_family_reason(model, family) if family in FAMILY_FILES else None
    if missing:
        return missing
    if plan.method == "posterior" and not (reference_dir(model) / "draws.npz").is_file():
        return (f"no reference posterior: posterior SBC draws its truths from it; make it with "
                f"python -m harness reference {models_option(model)}")
    return None


def _batched(backend: str) -> bool:
    return isinstance(load_module(backend), SupportsBatch)


def plan_tasks(plan: SBCPlan, model: str, backend: str, done: set[int], stage: str = "screen") -> list[Task]:
    """Tasks still to run for one model x backend (replicates in ``done`` are skipped).

    Batched backends get fixed boundaries [kB, (k+1)B) cut at ``sims``; a batch is rerun whole when
    any of its replicates is missing (only the missing ones are stored). ``stage`` "confirm": the
    confirmation replicates ``plan.confirm`` on seed stream 1.
    """
    stream = 1 if stage == "confirm" else 0
    sims = plan.confirm.get(combo_key(model, backend), 0) if stream else plan.sims_for(backend)
    settings = plan.settings.to_dict()
    size = plan.batch if _batched(backend) and plan.batch > 1 else 1
    tasks = []
    for start in range(0, sims, size):
        reps = tuple(range(start, min(start + size, sims)))
        if all(r in done for r in reps):
            continue
        tasks.append(Task(model, backend, reps, settings, plan.root_seed, plan.kept, size if size > 1 else 0, stream,
                          plan.method))
    return tasks


def plan_confirmation(plan: SBCPlan, summary: pd.DataFrame) -> dict[str, int]:
    """Add a confirmation of every flagged combination to ``plan.confirm``; returns {combo: replicates}.

    Replicates: enough that the confirmation test at Holm's first-step level alpha / m (m flagged
    combinations, Bonferroni over the Q quantities) detects a 0.5-sd shift with 80% probability, and
    at least as many as the screen. A combination confirmed before keeps its larger count.
    """
    flagged = summary[summary["screen_verdict"] == "flag"]
    keys = {combo_key(str(r.model), str(r.backend)) for r in flagged.itertuples()} | set(plan.confirm)
    m = max(1, len(keys))
    added = {}
    for r in flagged.itertuples():
        key = combo_key(str(r.model), str(r.backend))
        q = int(str(r.quantities))
        n = power.replicates_for(plan.kept, plan.alpha / (m * q), at_least=max(int(str(r.sims)), stats.MIN_REPLICATES))
        if n > plan.confirm.get(key, 0):
            plan.confirm[key] = n
            added[key] = n
    return added
