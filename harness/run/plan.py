"""What a benchmark run does: its cells, their seeds, and the plan stored in ``manifest.json``.

A cell is model x size x backend x repeat. Every backend gets the same ``SamplerSettings``, the same
core budget and, for a given model, size and repeat, the same seed (derived from one root seed with
numpy's SeedSequence, never the clock). ``--resume`` refuses a plan that differs from the stored one.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.backends import validate_backends
from harness.catalogue import get_model, validate_models
from harness.results import cell_id
from harness.settings import SamplerSettings, SettingsError
from harness.threads import worker_env

DEFAULT_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Cell:
    model: str
    size: dict
    backend: str
    repeat: int
    seed: int
    cell_id: str
    size_label: str = ""


@dataclass
class RunPlan:
    models: list[str]
    backends: list[str]
    settings: SamplerSettings
    repeats: int = 1
    root_seed: int = 0
    sizes: list[dict] = field(default_factory=list)
    timeout_s: float = DEFAULT_TIMEOUT_S
    equivalence: bool = True
    save_draws: bool = False  # each ok cell's draws as InferenceData in <run>/draws/<cell>.nc


# what a run directory's plan is made of (manifest.json "settings"); resume refuses a plan that differs
PLAN_FIELDS = ("models", "backends", "sizes", "repeats", "root_seed", "chains", "warmup", "draws",
               "target_accept", "max_treedepth", "device", "cores", "timeout_s", "save_draws")


def plan_settings(plan: RunPlan) -> dict:
    """The plan as stored in the manifest's ``settings`` (with the cells' thread environment)."""
    return {
        **plan.settings.to_dict(), "repeats": plan.repeats, "root_seed": plan.root_seed,
        "models": plan.models, "backends": plan.backends, "sizes": plan.sizes, "timeout_s": plan.timeout_s,
        "save_draws": plan.save_draws,
        "thread_env": {k: v for k, v in worker_env(plan.settings.cores, plan.settings.device, {}).items()},
    }


def plan_from_settings(stored: dict, **overrides) -> RunPlan:
    """The RunPlan a manifest's ``settings`` describe; ``overrides`` (RunPlan or SamplerSettings fields) replace parts."""
    sampler = {k: stored[k] for k in SamplerSettings.__dataclass_fields__ if k in stored}
    sampler.update({k: v for k, v in overrides.items() if k in SamplerSettings.__dataclass_fields__})
    fields = {k: stored[k] for k in ("models", "backends", "sizes", "repeats", "root_seed", "timeout_s", "save_draws")
              if k in stored}
    fields.update({k: v for k, v in overrides.items() if k in RunPlan.__dataclass_fields__})
    return RunPlan(settings=SamplerSettings(**sampler), **fields)


def plan_differences(stored: dict, plan: RunPlan) -> list[str]:
    """'field: stored X, given Y' for every plan field where ``plan`` differs from a manifest's settings."""
    defaults = {"save_draws": False, "sizes": [], "timeout_s": DEFAULT_TIMEOUT_S}
    given = json.loads(json.dumps(plan_settings(plan)))
    out = []
    for key in PLAN_FIELDS:
        before = stored.get(key, defaults.get(key))
        if before != given[key]:
            out.append(f"{key}: stored {before!r}, given {given[key]!r}")
    return out


def cell_seed(root_seed: int, model: str, size_label: str, repeat: int) -> int:
    """The seed of one model/size/repeat, shared by every backend (31-bit, from SeedSequence)."""
    key = zlib.crc32(f"{model}@{size_label}".encode())
    state = np.random.SeedSequence([root_seed, key, repeat]).generate_state(1)
    return int(state[0] >> 1)


def validate(plan: RunPlan) -> None:
    """Every name and setting is checked before any work starts; errors list the valid choices."""
    validate_models(plan.models)
    validate_backends(plan.backends)
    if plan.repeats < 1:
        raise SettingsError(f"repeats must be a positive integer, got {plan.repeats}")
    if not plan.timeout_s > 0:
        raise SettingsError(f"timeout must be positive, got {plan.timeout_s}")
    for size in plan.sizes:
        if not any(set(size) <= set(get_model(m).size_defaults) for m in plan.models):
            scalable = [m for m in plan.models if get_model(m).size_defaults]
            raise SettingsError(
                f"size {size} fits none of the selected models; size-scalable models: "
                + (", ".join(f"{m} ({', '.join(get_model(m).size_defaults)})" for m in scalable) or "none selected")
            )


def plan_cells(plan: RunPlan) -> list[Cell]:
    """Cells in run order: model, size, repeat, then backend (so backends alternate in time)."""
    cells = []
    for model in plan.models:
        spec = get_model(model)
        sizes = [s for s in plan.sizes if set(s) <= set(spec.size_defaults)] or [{}]
        for size in sizes:
            label = spec.size_label(size)
            for repeat in range(plan.repeats):
                seed = cell_seed(plan.root_seed, model, label, repeat)
                for backend in plan.backends:
                    cid = cell_id(model, label, backend, repeat, plan.settings.device)
                    cells.append(Cell(model, size, backend, repeat, seed, cid, label))
    return cells




def stored_manifest(out_dir: Path) -> dict:
    """A run directory's ``manifest.json``; a clear error when there is none (``--resume``)."""
    path = Path(out_dir) / "manifest.json"
    if not path.exists():
        raise SettingsError(f"cannot resume {out_dir}: it holds no run (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SettingsError(f"cannot resume {out_dir}: {path} is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("settings"), dict):
        raise SettingsError(f"cannot resume {out_dir}: {path} holds no run settings")
    return manifest
