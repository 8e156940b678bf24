"""Interleaved A/B execution: the same cells, alternately on side A and side B, on one machine.

The work is cut into units of one repeat of one model (every selected backend): for repeat k and
model m, side A runs ``python -m harness run --models m --repeats 1 --seed <seed + k>`` and then
side B the same, with the order of A and B alternating from unit to unit so that drift of the
machine (load, thermal state, caches) falls on both sides alike. Both sides use the same seed in a
unit, so draws and gradient counts are comparable exactly; the seed changes from repeat to repeat.

With ``prime`` (the default), each side first runs every model once unmeasured, so that caches a
fresh environment has not filled yet (JAX's compilation cache, httpstan's model builds) are filled
on both sides before the first measured repeat, and ``compile_s`` and ``total_s`` compare like with
like.

Each side's units are merged into one normal results directory (``OUT/a``, ``OUT/b``: manifest,
cells, tables) with ``repeat`` = k, whose manifest also records the side's ENV and the versions of
its packages (``ab``); the sub-runs and their logs stay in ``OUT/runs/<side>/``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.ab.envs import Env
from harness.errors import HarnessInputError
from harness.results import RunStore, cell_id

SIDES = ("a", "b")


class ABError(HarnessInputError):
    """A side's run that did not produce results."""


@dataclass
class ABPlan:
    models: list[str]
    backends: list[str]
    chains: int = 2
    warmup: int = 300
    draws: int = 2000
    sizes: list[str] = field(default_factory=list)   # e.g. ["K=50000"]: given to the models they fit
    repeats: int = 6
    seed: int = 0
    cores: int = 1
    timeout_s: float = 1800.0
    prime: bool = True
    extra_run_args: list[str] = field(default_factory=list)

    def settings(self) -> dict:
        return {"models": self.models, "backends": self.backends, "chains": self.chains, "warmup": self.warmup,
                "draws": self.draws, "sizes": self.sizes, "repeats": self.repeats, "seed": self.seed,
                "cores": self.cores}


@dataclass(frozen=True)
class Unit:
    index: int
    repeat: int
    model: str
    order: tuple[str, str]   # ("a", "b") or ("b", "a")
    seed: int


def plan_units(plan: ABPlan) -> list[Unit]:
    """Units in run order; A first in every other unit."""
    units: list[Unit] = []
    for k in range(plan.repeats):
        for model in plan.models:
            i = len(units)
            units.append(Unit(i, k, model, SIDES if i % 2 == 0 else SIDES[::-1], plan.seed + k))
    return units


def _sizes_for(model: str, sizes: list[str]) -> list[str]:
    """The --size values whose keys fit ``model`` (the runner refuses a size that fits no model)."""
    from harness.catalogue import get_model
    from harness.spec import parse_size

    keys = set(get_model(model).size_defaults)
    return [s for s in sizes if set(parse_size(s)) <= keys]


def run_argv(plan: ABPlan, unit: Unit, out: Path) -> list[str]:
    argv = ["-m", "harness", "run", "--models", unit.model, "--backends", ",".join(plan.backends),
            "--chains", str(plan.chains), "--warmup", str(plan.warmup), "--draws", str(plan.draws),
            "--cores", str(plan.cores), "--repeats", "1", "--seed", str(unit.seed), "--timeout", str(plan.timeout_s),
            "--out", str(out), "--no-equivalence", "--no-progress"]
    for size in _sizes_for(unit.model, plan.sizes):
        argv += ["--size", size]
    return argv + list(plan.extra_run_args)


def run_side(env: Env, plan: ABPlan, unit: Unit, out: Path) -> Path:
    """One side's run of one unit, in its own process with the side's interpreter and checkout (its working
    directory), so ``out`` is made absolute first."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        shutil.rmtree(out)  # a sub-run directory is the engine's own scratch (an interrupted earlier attempt)
    log = out.parent / f"{out.name}.log"
    cmd = [env.python, *run_argv(plan, unit, out)]
    with open(log, "w") as fh:
        fh.write(" ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env.child_env(), cwd=env.root)
    if proc.returncode != 0 or not (out / "cells").is_dir():
        tail = log.read_text(errors="replace")[-3000:]
        raise ABError(f"side {env.spec!r} failed on {unit.model} repeat {unit.repeat} (exit {proc.returncode}); "
                      f"log {log}:\n{tail}")
    return out


def merge_unit(side_dir: Path, sub_run: Path, repeat: int) -> list[dict]:
    """Copy a sub-run's records into the side's results directory as repeat ``repeat``."""
    store = RunStore(side_dir)
    records = []
    for path in sorted((sub_run / "cells").glob("*.json")):
        rec = json.loads(path.read_text())
        rec["repeat"] = repeat
        rec["cell_id"] = cell_id(rec["model"], rec.get("size") or "", rec["backend"], repeat, rec.get("device", "cpu"))
        rec["ab_sub_run"] = str(sub_run)
        store.add(rec)
        records.append(rec)
    return records


def write_side_manifest(side_dir: Path, side: str, env: Env, plan: ABPlan, sub_runs: list[Path],
                        command: list[str] | None) -> None:
    """The first sub-run's manifest (the side's machine, packages, git state as its own interpreter saw
    them), with the A/B plan's settings and the side's ENV (``ab``)."""
    first = json.loads((sub_runs[0] / "manifest.json").read_text())
    settings = dict(first.get("settings") or {})
    settings.update(repeats=plan.repeats, root_seed=plan.seed, models=plan.models, backends=plan.backends,
                    sizes=plan.sizes, ab_seeds=f"{plan.seed}..{plan.seed + plan.repeats - 1} (seed + repeat)")
    packages = first.get("packages") or {}
    backend_versions: dict = {}
    for rec in RunStore(side_dir).records():
        if isinstance(rec.get("versions"), dict):
            backend_versions.update(rec["versions"])
    first.update(settings=settings, command=command or sys.argv,
                 ab={"side": side.upper(), **env.describe(), "versions": {**packages, **backend_versions},
                     "sub_runs": [str(p) for p in sub_runs]})
    RunStore(side_dir).write_manifest(first)


def run_ab(env_a: Env, env_b: Env, plan: ABPlan, out: Path, progress: bool = True,
           command: list[str] | None = None) -> tuple[Path, Path]:
    """Run every unit on both sides, interleaved; returns the two merged results directories.

    ``out`` is resolved here: each side runs with its own checkout as working directory, so a relative
    path would land in that checkout (a git ref's worktree in the harness cache), not where the caller
    looks for it."""
    out = Path(out).resolve()
    if plan.repeats < 1:
        raise ABError(f"repeats must be a positive integer, got {plan.repeats}")
    envs = {"a": env_a, "b": env_b}
    dirs = {s: out / s for s in SIDES}
    for s in SIDES:
        if dirs[s].exists() and any(dirs[s].iterdir()):
            raise ABError(f"{dirs[s]} exists and is not empty; give a new --out")
    sub_runs: dict[str, list[Path]] = {s: [] for s in SIDES}
    units = plan_units(plan)
    total = len(units) * 2
    done = 0
    if plan.prime:
        for i, model in enumerate(plan.models):
            unit = Unit(-1, -1, model, SIDES if i % 2 == 0 else SIDES[::-1], plan.seed)
            for side in unit.order:
                start = time.perf_counter()
                run_side(envs[side], plan, unit, out / "runs" / side / f"prime-{model}")
                if progress:
                    print(f"[prime] {model} side {side.upper()} ({time.perf_counter() - start:.1f} s, not measured)",
                          file=sys.stderr, flush=True)
    for unit in units:
        for side in unit.order:
            start = time.perf_counter()
            sub = run_side(envs[side], plan, unit, out / "runs" / side / f"r{unit.repeat}-{unit.model}")
            merge_unit(dirs[side], sub, unit.repeat)
            sub_runs[side].append(sub)
            write_side_manifest(dirs[side], side, envs[side], plan, sub_runs[side], command)
            done += 1
            if progress:
                print(f"[{done}/{total}] {unit.model} repeat {unit.repeat} side {side.upper()} "
                      f"({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
    (out / "ab.json").write_text(json.dumps({"plan": plan.settings(), "a": env_a.describe(), "b": env_b.describe(),
                                             "units": [u.__dict__ | {"order": list(u.order)} for u in units]},
                                            indent=1))
    return dirs["a"], dirs["b"]
