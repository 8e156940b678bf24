"""Plan, run and summarise SBC over models x backends.

Work is split into tasks (``harness.sbc.worker.Task``): fixed-boundary batches of
``batch`` replicates for backends with ``sample_batch`` (NumPyro: one vectorised call per batch),
one replicate per task otherwise. Model x backend pairs run one after another, each on the whole
pool of ``cores`` single-threaded worker processes, so a pair's wall time (compile included) gives
its replicates per second. Every finished task is stored at once (``harness.sbc.store``); a resumed
run skips stored replicates and, since seeds and batch boundaries do not depend on what ran before,
ends with the same ranks as an uninterrupted run.

Verdicts with stated error rates (``finalise``):

1. **Screen.** Each model x backend gets the exact p-value of its ranks (Bonferroni over its Q
   quantities, ``harness.sbc.stats``); p < alpha *flags* it. A calibrated backend is flagged with
   probability <= alpha, so a run of m conclusive combinations expects up to m x alpha false flags.
   A flag is never a final ``fail`` by itself and is never hidden: without a confirmation it reads
   ``flagged (not confirmed)``.
2. **Confirmation** (``--confirm``). Every flagged combination is rerun on fresh data sets (seed
   stream 1, disjoint from the screen's) with enough replicates that its test, at Holm's first-step
   level alpha / m_flagged, detects a 0.5-sd shift with 80% probability (at least as many as the
   screen). The screen's ranks are *not* reused: they were selected for being extreme. Holm's
   procedure over the run's confirmation p-values decides: adjusted p < alpha is a confirmed
   ``fail``; otherwise ``pass (flag not confirmed)``. Since confirmation data are independent of the
   screen, the probability that a run wrongly fails any calibrated backend is at most alpha.
3. **Power.** Every verdict states the shift (posterior sd, one quantity) it detects with 80%
   probability at its usable replicate count (``harness.sbc.power``). A pass that cannot detect 0.5 sd
   reads ``pass (weak)`` (``pass (weak; flag not confirmed)`` after a confirmation).
4. **Divergence-free diagnostic.** The verdict on divergence-free fits only is a labelled diagnostic
   (``verdict_no_divergent``); the fits it leaves out count as failed fits in its 5% rule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness import provenance
from harness.backends import get_backend, load_module
from harness.catalogue import get_model
from harness.paths import cache_root, utc_stamp
from harness.results import write_csv_atomic
from harness.runner import validate_names
from harness.sbc import power, stats
from harness.sbc.pool import DEFAULT_TIMEOUT_S, WorkerPool
from harness.sbc.ranks import DEFAULT_KEPT, quantity_names
from harness.sbc.store import SBCStore, combo_key
from harness.sbc.worker import Task
from harness.settings import SamplerSettings, SettingsError
from harness.threads import worker_env

# Replicates per backend of the default run (``python -m harness sbc`` = ``nox -s sbc``), sized from
# measured costs on this 2-core machine (1 chain x 500 warm-up x 500 draws, two workers, shared with
# other jobs): for all 9 catalogue models, NumPyro ~280 s per 100 replicates (+ ~20 s compile per
# model), Stan ~0.4 s per replicate, PyMC ~2.5 s (it rebuilds and recompiles the model for each data
# set), Pyro ~18 s (20-100 s per fit, two at a time). Defaults: ~12-19 + ~6 + ~7.5 + ~11 min, about
# 40 min in all. Pyro's 4 and PyMC's 20 replicates are a smoke test (inconclusive: fewer than
# MIN_REPLICATES usable fits for Pyro); run them longer with --sims and --resume.
FALLBACK_SIMS = 100  # backends that declare no SBC_REPLICATES
SBC_CHAINS, SBC_WARMUP, SBC_DRAWS = 1, 500, 500
DEFAULT_BATCH = 10


def serial_fits(backend: str) -> bool:
    """A backend module may declare ``SERIAL_FITS = True`` when its fits must not run concurrently
    in several processes; SBC then runs them one at a time under a shared lock."""
    return bool(getattr(load_module(backend), "SERIAL_FITS", False))


@dataclass
class SBCPlan:
    """What an SBC run does; stored as ``sbc.json`` and read back on resume.

    sims: replicates per backend. settings: the NUTS settings every fit uses (``cores`` is 1: each
    fit runs on one core of the pool). kept: L, draws kept per replicate. batch: replicates per
    vectorised call for backends with ``sample_batch``.
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


def default_sims(backends: list[str]) -> dict[str, int]:
    """{backend: replicates per model}: each backend module's ``SBC_REPLICATES`` (sized for its cost)."""
    return {b: getattr(load_module(b), "SBC_REPLICATES", FALLBACK_SIMS) for b in backends}


def validate(plan: SBCPlan) -> None:
    """Every name and number is checked before any work starts."""
    validate_names(plan.models, plan.backends)
    for name in plan.backends:
        module = load_module(name)
        get_backend(name)  # an uninstalled backend is an error before any work starts
        if plan.settings.device not in module.DEVICES:
            raise SettingsError(f"backend {name!r} runs on {', '.join(module.DEVICES)} only, not {plan.settings.device}")
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


def default_run_dir(base: Path = Path("results") / "sbc") -> Path:
    return base / utc_stamp()


def _batched(backend: str) -> bool:
    return hasattr(load_module(backend), "sample_batch")


def plan_tasks(plan: SBCPlan, model: str, backend: str, done: set[int], lock_dir: Path | None = None,
               stage: str = "screen") -> list[Task]:
    """Tasks still to run for one model x backend (replicates in ``done`` are skipped).

    Batched backends get fixed boundaries [kB, (k+1)B) cut at ``sims``; a batch is rerun whole when
    any of its replicates is missing (only the missing ones are stored). ``stage`` "confirm": the
    confirmation replicates ``plan.confirm`` on seed stream 1.
    """
    stream = 1 if stage == "confirm" else 0
    sims = plan.confirm.get(combo_key(model, backend), 0) if stream else plan.sims_for(backend)
    settings = plan.settings.to_dict()
    size = plan.batch if _batched(backend) and plan.batch > 1 else 1
    lock = str(Path(lock_dir) / f"{backend}.lock") if lock_dir is not None and serial_fits(backend) else ""
    tasks = []
    for start in range(0, sims, size):
        reps = tuple(range(start, min(start + size, sims)))
        if all(r in done for r in reps):
            continue
        tasks.append(Task(model, backend, reps, settings, plan.root_seed, plan.kept, size if size > 1 else 0, lock,
                          stream))
    return tasks


def _lock_dir() -> Path:
    """Locks of backends with SERIAL_FITS, in the harness cache so that concurrent SBC runs share them."""
    root = cache_root()
    path = root / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def failed_records(task: Task, reason: str) -> list[dict]:
    """Records of a task that produced none (timeout, lost worker, error outside a replicate)."""
    from harness.sbc.worker import replicate_streams

    return [{"model": task.model, "backend": task.backend, "replicate": i,
             "seed": replicate_streams(task.root_seed, task.model, i, task.stream)[1], "status": "failed",
             "error": reason, "stage": "confirm" if task.stream else "screen"}
            for i in task.replicates]


def run_sbc(plan: SBCPlan, out_dir: Path, cores: int | None = None, progress: bool = True,
            command: list[str] | None = None, in_process: bool = False, log=None, figures: bool = True,
            confirm: bool = False) -> Path:
    """Run every missing replicate of ``plan`` into ``out_dir``, then write tables and figures.

    cores: worker processes (default: all CPUs). in_process: run tasks in this process, one after
    another (tests; no timeout). ``log`` gets one line per finished model x backend. confirm: then
    rerun every flagged combination on fresh data sets (see the module docstring).
    """
    validate(plan)
    if cores is not None and cores < 1:
        raise SettingsError(f"cores must be a positive integer, got {cores}")
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    (Path(out_dir) / "logs").mkdir(parents=True, exist_ok=True)
    with _exclusive(Path(out_dir) / "logs" / "run.lock"), _terminate_as_interrupt():
        store = SBCStore(out_dir)  # repairs a torn last line: only once no other process writes
        store.write_plan(plan.to_dict())
        store_manifest(store, plan, command)
        workers = cores or os.cpu_count() or 1
        _run_all(plan, store, workers, progress, in_process, log)
        if confirm:
            summary = write_outputs(store.root, figures=False)
            added = plan_confirmation(plan, summary)
            store.write_plan(plan.to_dict())
            for key, n in added.items():
                log(f"sbc confirm {key.replace('__', ' x ')}: {n} fresh replicates (seed stream 1)")
            _run_all(plan, SBCStore(out_dir, "confirm"), workers, progress, in_process, log, stage="confirm")
    write_outputs(store.root, figures=figures)
    return store.root


def plan_confirmation(plan: SBCPlan, summary: pd.DataFrame) -> dict[str, int]:
    """Add a confirmation of every flagged combination to ``plan.confirm``; returns {combo: replicates}.

    Replicates: enough that the confirmation test at Holm's first-step level alpha / m (m flagged
    combinations, Bonferroni over the Q quantities) detects a 0.5-sd shift with 80% probability, and
    at least as many as the screen. A combination confirmed before keeps its larger count.
    """
    flagged = summary[summary["screen_verdict"] == "flag"]
    keys = {combo_key(r.model, r.backend) for r in flagged.itertuples()} | set(plan.confirm)
    m = max(1, len(keys))
    added = {}
    for r in flagged.itertuples():
        key = combo_key(r.model, r.backend)
        q = int(r.quantities)
        n = power.replicates_for(plan.kept, plan.alpha / (m * q), at_least=max(int(r.sims), stats.MIN_REPLICATES))
        if n > plan.confirm.get(key, 0):
            plan.confirm[key] = n
            added[key] = n
    return added


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """One process per run directory: a second one (e.g. --resume while it still runs) is refused."""
    import fcntl

    with open(lock_path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SettingsError(f"{lock_path.parent.parent} is in use by another SBC process") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM stops the run like Ctrl-C: workers are killed, stored replicates stay."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_all(plan: SBCPlan, store: SBCStore, cores: int, progress: bool, in_process: bool, log,
             stage: str = "screen") -> None:
    from tqdm import tqdm

    env = worker_env(1, plan.settings.device)
    pool = None
    try:
        for model in plan.models:
            for backend in plan.backends:
                done = {r for (m, b, r) in store.records() if m == model and b == backend}
                tasks = plan_tasks(plan, model, backend, done, lock_dir=_lock_dir(), stage=stage)
                if not tasks:
                    continue
                if pool is None and not in_process:
                    pool = WorkerPool(cores, env, plan.timeout_s, log_dir=store.root / "logs")
                todo = sum(1 for t in tasks for r in t.replicates if r not in done)
                bar = tqdm(total=todo, disable=not progress, unit="rep", dynamic_ncols=True, file=sys.stderr,
                           desc=f"{model} {backend}" + (" (confirm)" if stage == "confirm" else ""))
                clock = [time.perf_counter()]

                def on_done(task: Task, records: list[dict], model=model, backend=backend, bar=bar) -> None:
                    new = [r for r in records if r["replicate"] not in done]
                    done.update(r["replicate"] for r in new)
                    store.append(new)
                    now = time.perf_counter()
                    store.add_timing(model, backend, now - clock[0], len(new))
                    clock[0] = now
                    bar.update(len(new))

                if in_process:
                    from harness.sbc.worker import run_task

                    for task in tasks:
                        on_done(task, run_task(task))
                else:
                    pool.run(tasks, on_done, failed_records)
                bar.close()
                log(_progress_line(store, model, backend) + (" (confirmation)" if stage == "confirm" else ""))
    finally:
        if pool is not None:
            pool.close(kill=sys.exc_info()[0] is not None)


def store_manifest(store: SBCStore, plan: SBCPlan, command: list[str] | None) -> None:
    """Provenance of the first session; a resumed session is appended to ``sessions``."""
    import json

    from harness.results import write_json_atomic

    settings = {**plan.to_dict(), "thread_env": worker_env(1, plan.settings.device, {})}
    manifest = provenance.collect(settings, command)
    path = store.root / "manifest.json"
    if path.exists():
        try:
            first = json.loads(path.read_text())
        except json.JSONDecodeError:
            first = None
        if isinstance(first, dict):
            session = {k: manifest[k] for k in ("created", "command", "machine", "git")}
            manifest = {**first, "settings": settings, "sessions": first.get("sessions", []) + [session]}
    write_json_atomic(path, manifest)


def _progress_line(store: SBCStore, model: str, backend: str) -> str:
    recs = [r for (m, b, _), r in store.records().items() if m == model and b == backend]
    ok = sum(r["status"] == "ok" for r in recs)
    t = store.timing().get(combo_key(model, backend), {})
    rate = t.get("replicates", 0) / t["wall_s"] if t.get("wall_s") else float("nan")
    return f"sbc {model} x {backend}: {len(recs)} replicates, {ok} ok, {rate:.2f} replicates/s"


# ---------------------------------------------------------------- tables


RANK_COLUMNS = ["model", "backend", "stage", "replicate", "quantity", "rank", "n_kept", "status", "divergences",
                "seed", "error"]
SUMMARY_COLUMNS = [
    "model", "backend", "sims", "ok", "failed", "failed_frac", "divergent_frac", "verdict", "verdict_no_divergent",
    "failed_quantities", "coverage_50", "coverage_80", "coverage_95", "chi2_min_p", "reps_per_s", "wall_s",
    "settings", "low_ess", "n_no_divergent", "excluded_frac_no_divergent", "failed_quantities_no_divergent",
    "verdict_reason", "kept", "alpha", "band_prob", "planned_sims",
    # verdicts with stated error rates (see the module docstring)
    "screen_verdict", "p_value", "power_shift", "quantities", "confirm_sims", "confirm_ok", "confirm_failed",
    "confirm_p", "confirm_p_holm", "confirm_power_shift", "confirm_failed_quantities", "holm_family",
]


def ranks_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy ranks: one row per replicate x quantity; a replicate without ranks is one row with no quantity."""
    rows = []
    for r in records:
        base = {"model": r["model"], "backend": r["backend"], "stage": r.get("stage", "screen"),
                "replicate": r["replicate"], "status": r["status"],
                "n_kept": r.get("n_kept"), "divergences": r.get("divergences"), "seed": r.get("seed"),
                "error": (r.get("error") or "").split("\n")[0][:300]}
        ranks = r.get("ranks") or {}
        if not ranks:
            rows.append({**base, "quantity": None, "rank": None})
        rows.extend({**base, "quantity": q, "rank": v} for q, v in ranks.items())
    frame = pd.DataFrame(rows, columns=RANK_COLUMNS)
    for col in ("rank", "n_kept", "divergences"):
        frame[col] = frame[col].astype("Int64")
    return frame.sort_values(["model", "backend", "stage", "replicate"], kind="stable").reset_index(drop=True)


@dataclass
class ComboResult:
    """Everything computed for one model x backend: the summary row, per-quantity rows, rank arrays."""

    row: dict
    quantity_rows: list[dict]
    names: list[str]
    ranks_ok: np.ndarray        # (N_ok, Q)
    ranks_clean: np.ndarray     # (N_clean, Q) divergence-free
    prob: float


def _matrix(recs: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[r["ranks"][q] for q in names] for r in recs], dtype=int).reshape(len(recs), len(names))


def summarise_combo(plan: SBCPlan, model: str, backend: str, records: list[dict], timing: dict,
                    confirm_records: list[dict] | None = None) -> ComboResult:
    """The first-stage statistics (and the confirmation's, when there is one) of one model x backend.

    The final ``verdict`` needs the whole run (Holm over confirmations): ``finalise`` sets it.
    """
    spec = get_model(model)
    names = quantity_names(spec, spec.data())
    sims = len(records)
    ok = [r for r in records if r["status"] == "ok"]
    clean = [r for r in ok if not r.get("divergences")]
    failed = sims - len(ok)
    ranks_ok, ranks_clean = _matrix(ok, names), _matrix(clean, names)
    a_ok = stats.assess(ranks_ok, names, plan.kept, plan.alpha)
    a_clean = stats.assess(ranks_clean, names, plan.kept, plan.alpha)
    screen, reason = stats.verdict(sims, failed, a_ok)
    # diagnostic only: fits left out for divergences count as failed fits in the 5% rule
    verdict_clean, _ = stats.verdict(sims, sims - len(clean), a_clean)
    wall = timing.get("wall_s", float("nan"))
    run = timing.get("replicates", 0)
    row = {
        "model": model, "backend": backend, "sims": sims, "ok": len(ok), "failed": failed,
        "failed_frac": failed / sims if sims else float("nan"),
        "divergent_frac": (len(ok) - len(clean)) / len(ok) if ok else float("nan"),
        "verdict": None, "screen_verdict": {"fail": "flag"}.get(screen, screen),
        "p_value": a_ok.p_value,
        "power_shift": power.verdict_power(len(ok), plan.kept, plan.alpha, len(names)),
        "quantities": len(names),
        "verdict_no_divergent": {"fail": "flag"}.get(verdict_clean, verdict_clean),
        "failed_quantities": ";".join(a_ok.failed_quantities),
        "coverage_50": a_ok.mean_coverage(0.5), "coverage_80": a_ok.mean_coverage(0.8),
        "coverage_95": a_ok.mean_coverage(0.95), "chi2_min_p": a_ok.chi2_min_p,
        "reps_per_s": run / wall if wall and wall > 0 else float("nan"), "wall_s": wall,
        "settings": _settings_text(plan),
        "low_ess": sum(r["status"] == "low_ess" for r in records),
        "n_no_divergent": len(clean),
        "excluded_frac_no_divergent": (sims - len(clean)) / sims if sims else float("nan"),
        "failed_quantities_no_divergent": ";".join(a_clean.failed_quantities),
        "verdict_reason": reason, "kept": plan.kept, "alpha": plan.alpha, "band_prob": a_ok.prob,
        "planned_sims": plan.sims.get(backend),
        "confirm_sims": 0, "confirm_ok": 0, "confirm_failed": 0, "confirm_p": float("nan"),
        "confirm_p_holm": float("nan"), "confirm_power_shift": float("nan"), "confirm_failed_quantities": "",
        "holm_family": 0,
    }
    subsets = [("all_ok", a_ok), ("no_divergent", a_clean)]
    if confirm_records:
        c_ok = [r for r in confirm_records if r["status"] == "ok"]
        a_conf = stats.assess(_matrix(c_ok, names), names, plan.kept, plan.alpha)
        c_verdict, c_reason = stats.verdict(len(confirm_records), len(confirm_records) - len(c_ok), a_conf)
        row.update(confirm_sims=len(confirm_records), confirm_ok=len(c_ok),
                   confirm_failed=len(confirm_records) - len(c_ok),
                   confirm_p=a_conf.p_value if c_verdict != "inconclusive" else float("nan"),
                   confirm_failed_quantities=";".join(a_conf.failed_quantities))
        if c_verdict == "inconclusive":
            row["confirm_reason"] = c_reason
        subsets.append(("confirm", a_conf))
    qrows = []
    for subset, assessment in subsets:
        for q in assessment.quantities:
            qrows.append({"model": model, "backend": backend, "subset": subset, "quantity": q.quantity, "n": q.n,
                          "in_band": q.in_band, "p_value": q.p_value, "max_ecdf_diff": q.max_ecdf_diff,
                          "chi2": q.chi2, "chi2_p": q.chi2_p,
                          **{f"coverage_{int(lvl * 100)}": q.coverage[lvl] for lvl in stats.COVERAGE_LEVELS},
                          "band_prob": assessment.prob})
    return ComboResult(row, qrows, names, ranks_ok, ranks_clean, a_ok.prob)


def finalise(rows: list[dict], kept: int, alpha: float) -> None:
    """Final verdicts of a run's rows in place: Holm over the confirmations; power; see the module docstring."""
    family = [i for i, r in enumerate(rows)
              if r["screen_verdict"] == "flag" and r["confirm_sims"] and np.isfinite(r["confirm_p"])]
    adjusted = stats.holm([rows[i]["confirm_p"] for i in family])
    m = len(family)
    for i, p in zip(family, adjusted):
        rows[i]["confirm_p_holm"] = p
        rows[i]["holm_family"] = m
        rows[i]["confirm_power_shift"] = power.verdict_power(rows[i]["confirm_ok"], kept, alpha / m,
                                                             rows[i]["quantities"])
    for r in rows:
        screen = r["screen_verdict"]
        if screen == "inconclusive":
            r["verdict"] = "inconclusive"
        elif screen == "pass":
            r["verdict"] = "pass" if power.adequate(r["power_shift"]) else "pass (weak)"
        elif r["confirm_sims"] == 0:
            r["verdict"] = "flagged (not confirmed)"
            r["verdict_reason"] = (f"first-stage p = {r['p_value']:.3g} < {alpha}: rerun with --confirm; "
                                   + (r["verdict_reason"] or ""))
        elif not np.isfinite(r["confirm_p"]):
            r["verdict"] = "flagged (confirmation inconclusive)"
            r["verdict_reason"] = r.get("confirm_reason") or "confirmation inconclusive"
        elif r["confirm_p_holm"] < alpha:
            r["verdict"] = "fail"
            r["verdict_reason"] = (f"confirmed on {r['confirm_ok']} fresh data sets: Holm-adjusted p = "
                                   f"{r['confirm_p_holm']:.3g} < {alpha}; ranks not uniform: "
                                   f"{r['confirm_failed_quantities'].replace(';', ', ') or r['failed_quantities']}")
        else:
            weak = not power.adequate(r["confirm_power_shift"])
            r["verdict"] = "pass (weak; flag not confirmed)" if weak else "pass (flag not confirmed)"
            r["verdict_reason"] = (f"first-stage flag (p = {r['p_value']:.3g}) not confirmed on {r['confirm_ok']} "
                                   f"fresh data sets (p = {r['confirm_p']:.3g}, Holm {r['confirm_p_holm']:.3g})")
        r.pop("confirm_reason", None)


def expected_false_alarms(summary: pd.DataFrame) -> str:
    """What a run of this size should expect if every backend were calibrated."""
    if summary.empty:
        return ""
    alpha = float(summary["alpha"].iloc[0])
    m = int((summary["screen_verdict"] != "inconclusive").sum())
    flags = int((summary["screen_verdict"] == "flag").sum())
    confirmed = int((summary["confirm_sims"] > 0).sum())
    return (f"Error control: {m} conclusive combination(s), each screened at alpha = {alpha}; if every backend "
            f"were calibrated this run would expect up to {m * alpha:.2f} first-stage flag(s) "
            f"(P(at least one) <= {1 - (1 - alpha) ** m:.0%}); it has {flags}. Only a flag confirmed on fresh data "
            f"sets (Holm over {confirmed} confirmation(s)) is a final fail: the probability that this run wrongly "
            f"fails any calibrated backend is <= {alpha}.")


def _settings_text(plan: SBCPlan) -> str:
    s = plan.settings
    return (f"chains={s.chains} warmup={s.warmup} draws={s.draws} target_accept={s.target_accept} "
            f"max_treedepth={s.max_treedepth} kept={plan.kept} seed={plan.root_seed} batch={plan.batch}")


def _by_combo(records: dict) -> dict:
    out: dict = {}
    for (m, b, _), rec in sorted(records.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        out.setdefault((m, b), []).append(rec)
    return out


def write_outputs(root: Path, figures: bool = True) -> pd.DataFrame:
    """Rebuild ranks.csv, summary.csv, quantities.csv and the figures from the replicate records."""
    store = SBCStore(root)
    plan = SBCPlan.from_dict(store.read_plan())
    timing = store.timing()
    by_combo = _by_combo(store.records())
    confirm_store = SBCStore(root, "confirm")
    by_combo_confirm = _by_combo(confirm_store.records()) if confirm_store.replicates_path.exists() else {}
    all_records = [r for recs in by_combo.values() for r in recs] + [r for recs in by_combo_confirm.values() for r in recs]
    write_csv_atomic(root / "ranks.csv", ranks_frame(all_records))
    results, qrows = [], []
    for model in plan.models:
        for backend in plan.backends:
            recs = by_combo.get((model, backend))
            if not recs:
                continue
            result = summarise_combo(plan, model, backend, recs, timing.get(combo_key(model, backend), {}),
                                     by_combo_confirm.get((model, backend)))
            results.append(result)
            qrows.extend(result.quantity_rows)
    finalise([r.row for r in results], plan.kept, plan.alpha)
    if figures:
        from harness.sbc.plots import combo_figure

        for result in results:
            combo_figure(root / "figures" / f"{result.row['model']}__{result.row['backend']}.png", result, plan.kept)
    summary = pd.DataFrame([r.row for r in results], columns=SUMMARY_COLUMNS)
    write_csv_atomic(root / "summary.csv", summary)
    write_csv_atomic(root / "quantities.csv", pd.DataFrame(qrows))
    return summary


def load_summary(root: Path) -> pd.DataFrame:
    return pd.read_csv(Path(root) / "summary.csv", keep_default_na=False, na_values=[""])


def _num(value, fmt: str) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "-"
    return fmt.format(value) if np.isfinite(value) else "-"


def markdown_table(summary: pd.DataFrame) -> str:
    """The per model x backend table the command prints, and the run's error statement."""
    head = ("| model | backend | replicates | failed | verdict | first-stage p | detects (80%) | confirmation "
            "| no-divergent diagnostic (excluded) | failed quantities | coverage 50/80/95 | replicates/s |")
    lines = [head, "|" + "---|" * 12]
    for r in summary.itertuples():
        failed_q = r.failed_quantities if isinstance(r.failed_quantities, str) and r.failed_quantities else "-"
        confirm = "-"
        if r.confirm_sims:
            confirm = (f"{r.confirm_sims} fresh, p = {_num(r.confirm_p, '{:.3g}')}, Holm {_num(r.confirm_p_holm, '{:.3g}')}"
                       f", detects {_num(r.confirm_power_shift, '{:.2f}')} sd")
        lines.append(
            f"| {r.model} | {r.backend} | {r.sims} | {r.failed} ({r.failed_frac:.1%}) | {r.verdict} "
            f"| {_num(r.p_value, '{:.3g}')} | {_num(r.power_shift, '{:.2f} sd')} | {confirm} "
            f"| {r.verdict_no_divergent} ({r.excluded_frac_no_divergent:.1%}) | {failed_q} "
            f"| {r.coverage_50:.2f}/{r.coverage_80:.2f}/{r.coverage_95:.2f} | {r.reps_per_s:.2f} |")
    statement = expected_false_alarms(summary)
    return "\n".join(lines) + ("\n\n" + statement if statement else "")


__all__ = ["SBCPlan", "run_sbc", "write_outputs", "markdown_table", "default_sims", "validate", "finalise",
           "plan_confirmation", "expected_false_alarms"]
