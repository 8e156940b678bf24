"""One SBC task (a batch of replicates of one model x backend), run inside a worker process.

Seeds: replicate ``i`` of ``model`` under root seed ``s`` owns ``SeedSequence([s, crc32(model), i])``
(first stage) or ``SeedSequence([s, crc32(model), i, stream])`` (confirmation stage, ``stream`` = 1:
fresh data sets, disjoint from the first stage's), spawned into three streams: the prior draw and simulated data, the sampler's seed, and the ranks'
tie-breaking. Nothing depends on the backend, the batch or the worker, so every backend fits the same
simulated data sets and a resumed run reproduces an uninterrupted one.

Compilation: the process that runs tasks (``harness.sbc.child``, one per Dask worker) keeps a small
cache of compiled models keyed by (backend, model, data size, settings, batch): ``backend.compile``
(or, for batched tasks, ``backend.compile_batch``, which compiles only the vectorised programs) runs
once per process for each, and every later replicate or batch of that model x backend reuses it. Each
simulated data set is then fitted with ``backend.sample``, or, when the backend has ``sample_batch``
and the task asks for it, all of the task's data sets in one vectorised call. Batches have fixed
boundaries ([0, B), [B, 2B), ...); a short last batch is padded with copies of its first data set
(their fits are discarded) so one compiled batch size serves the whole run.

A model that does not compile fails every replicate of the task with ``compile_failed`` set; the
driver (``harness.sbc.run``) records that once per model x backend with the replicates it cost.

Every replicate ends as a record (a dict, one JSON line in ``replicates.jsonl``)::

    model, backend, replicate, seed (sampler), status ("ok" | "low_ess" | "failed"), error,
    divergences, ranks {quantity: rank}, n_kept, thin, ess_bulk_min (over every test quantity),
    ess_params_min, ess_loglik, ess_joint, fit_s, wall_s, compile_s, simulate_s, fit_wall_s, rank_s
    (the task's phases over its replicates), stage ("screen" | "confirm"), worker (host:pid of the
    process that fitted it), compiled (True when this task compiled the model), compile_cached (the
    backend's cache hit of that compile, when it says)
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from harness.backends.base import SupportsBatch
from harness.compile_turn import go_home
from harness.sbc.ranks import replicate_ranks

# compiled models of this process: (backend, model, size, settings) -> context, least recently used first
_CONTEXTS: OrderedDict = OrderedDict()
MAX_CONTEXTS = 4


@dataclass(frozen=True)
class Task:
    """Replicates of one model x backend for one worker call.

    settings: ``SamplerSettings.to_dict()``; kept: L; batch: > 0 to fit with ``sample_batch`` in
    batches of exactly this size (``replicates`` is then one fixed-boundary batch), 0 for one
    ``sample`` call per replicate.
    """

    model: str
    backend: str
    replicates: tuple[int, ...]
    settings: dict
    root_seed: int
    kept: int
    batch: int = 0
    stream: int = 0  # 0: first-stage data sets; 1: the confirmation stage's fresh data sets
    method: str = "prior"  # "prior" or "posterior" SBC (harness.sbc.simulation)

    @property
    def seed_stream(self) -> int:
        """The seed stream of its replicates: posterior SBC's are disjoint from prior SBC's."""
        from harness.sbc.simulation import POSTERIOR_STREAM_OFFSET

        return self.stream + (POSTERIOR_STREAM_OFFSET if self.method == "posterior" else 0)


def replicate_streams(root_seed: int, model: str, replicate: int,
                      stream: int = 0) -> tuple[np.random.Generator, int, np.random.Generator]:
    """(simulation rng, sampler seed (31-bit int), tie-breaking rng) of one replicate of a seed stream."""
    key = zlib.crc32(model.encode())
    entropy = [root_seed, key, replicate] + ([stream] if stream else [])
    sim, sampler, ties = np.random.SeedSequence(entropy).spawn(3)
    return np.random.default_rng(sim), int(sampler.generate_state(1)[0] >> 1), np.random.default_rng(ties)


def simulate(spec, data, root_seed: int, replicate: int, stream: int = 0,
             method: str = "prior") -> tuple[dict, dict, int, np.random.Generator]:
    """(true params, data set to fit, sampler seed, tie rng) of one replicate (``harness.sbc.simulation``);
    ``stream`` is the replicate's seed stream (``Task.seed_stream``)."""
    from harness.sbc.simulation import replicate as make_replicate

    rng, seed, ties = replicate_streams(root_seed, spec.name, replicate, stream)
    truth, fitted_data = make_replicate(spec, data, method, root_seed, replicate, stream, rng)
    return truth, fitted_data, seed, ties


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}\n" + traceback.format_exc()[-2500:]


def _context(task: Task) -> dict:
    """Spec, benchmark data, backend and compiled model of the task's model x backend (cached per process)."""
    from harness.backends import get_backend
    from harness.catalogue import get_model
    from harness.settings import SamplerSettings

    spec = get_model(task.model)
    size = tuple(sorted(spec.size_defaults.items()))
    key = (task.backend, task.model, size, tuple(sorted(task.settings.items())), task.batch, task.method)
    ctx = _CONTEXTS.get(key)
    if ctx is not None:
        _CONTEXTS.move_to_end(key)
        return ctx
    from harness.sbc.simulation import fit_template

    data = spec.data()
    settings = SamplerSettings(**task.settings)
    ctx = {"spec": spec, "data": data, "settings": settings, "compile_s": 0.0, "error": None, "fresh": True}
    start = time.perf_counter()
    try:
        backend = ctx["backend"] = get_backend(task.backend)
        if task.batch > 0 and isinstance(backend, SupportsBatch):  # only the programs sample_batch runs
            ctx["compiled"] = backend.compile_batch(spec, fit_template(spec, data, task.method), settings, task.batch)
        else:
            ctx["compiled"] = backend.compile(spec, fit_template(spec, data, task.method), settings)
    except Exception as err:  # every replicate of this model x backend then fails with this error
        ctx["error"] = "compile failed: " + _error_text(err)
    ctx["compile_s"] = time.perf_counter() - start
    _CONTEXTS[key] = ctx
    while len(_CONTEXTS) > MAX_CONTEXTS:
        _CONTEXTS.popitem(last=False)
    return ctx


def clear_cache() -> None:
    """Forget this process's compiled models (an in-process run starts like a fresh fit process)."""
    _CONTEXTS.clear()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _record(task: Task, replicate: int, seed: int, status: str, error: str = "", **extra) -> dict:
    return {"model": task.model, "backend": task.backend, "replicate": int(replicate), "seed": int(seed),
            "status": status, "error": error, "stage": "confirm" if task.stream else "screen", **extra}


def failed_records(task: Task, reason: str, **extra) -> list[dict]:
    """Records of a task that produced none (timeout, lost process, error outside a replicate)."""
    return [_record(task, i, replicate_streams(task.root_seed, task.model, i, task.seed_stream)[1], "failed", reason,
                    **extra) for i in task.replicates]


def _fit_all(ctx: dict, task: Task, datasets: list[dict], seeds: list[int]) -> list:
    """Fit every data set: a list of Fit objects or exception texts, one per data set."""
    backend, compiled, settings = ctx["backend"], ctx["compiled"], ctx["settings"]
    if task.batch > 0 and isinstance(backend, SupportsBatch):
        pad = task.batch - len(datasets)
        try:
            fits = backend.sample_batch(compiled, datasets + [datasets[0]] * pad, settings, seeds + [seeds[0]] * pad)
            return list(fits[: len(datasets)])
        except Exception:  # one bad data set must not fail its batch: fit them one by one
            pass
    out = []
    for data, seed in zip(datasets, seeds):
        try:
            out.append(backend.sample(compiled, data, settings, seed))
        except Exception as err:
            out.append(_error_text(err))
    return out


def run_task(task: Task) -> list[dict]:
    """Simulate, fit and rank every replicate of the task; one record per replicate, never raises."""
    start = time.perf_counter()
    try:
        ctx = _context(task)
        go_home()  # compiled (on every CPU where SBC's fit process may): fit on this worker's own core
        spec, data = ctx["spec"], ctx["data"]
        sims = [simulate(spec, data, task.root_seed, i, task.seed_stream, task.method) for i in task.replicates]
    except Exception as err:  # e.g. a model's prior sampler or simulator raising
        text = "simulation failed: " + _error_text(err)
        return [_record(task, i, replicate_streams(task.root_seed, task.model, i, task.seed_stream)[1], "failed", text)
                for i in task.replicates]
    n = len(task.replicates)
    if ctx["error"]:
        return [_record(task, i, s[2], "failed", ctx["error"], compile_failed=True, worker=worker_id())
                for i, s in zip(task.replicates, sims)]
    compile_s, ctx["compile_s"] = ctx["compile_s"], 0.0  # charged to the first task after compiling
    compiled_here, ctx["fresh"] = ctx["fresh"], False
    simulated, context_compile_s = time.perf_counter(), compile_s
    fits = _fit_all(ctx, task, [s[1] for s in sims], [s[2] for s in sims])
    fitted = time.perf_counter()
    records = []
    for i, (truth, data_sim, seed, ties), fit in zip(task.replicates, sims, fits):
        if isinstance(fit, str):
            records.append(_record(task, i, seed, "failed", fit))
            continue
        extra = {"divergences": int(np.sum(fit.diverging)), "fit_s": float(fit.warmup_s + fit.sampling_s)}
        compile_s += float(fit.extra_compile_s)
        try:
            bad = [k for k, v in fit.draws.items() if not np.all(np.isfinite(v))]
            if bad:
                raise FloatingPointError(f"non-finite draws in {bad}")
            r = replicate_ranks(spec, data_sim, truth, fit.draws, task.kept, ties)
        except Exception as err:
            records.append(_record(task, i, seed, "failed", _error_text(err), **extra))
            continue
        error = "" if r.status == "ok" else (
            f"bulk ESS {r.ess_bulk_min:.0f} leaves {r.info['candidates']} near-independent draws < L = {task.kept}")
        records.append(_record(task, i, seed, r.status, error, ranks=r.ranks, n_kept=r.n_kept, thin=r.thin,
                               ess_bulk_min=r.ess_bulk_min,
                               **{k: v for k, v in r.info.items() if k.startswith("ess_")}, **extra))
    end = time.perf_counter()
    cache_hit = getattr(ctx.get("compiled"), "cache_hit", None)
    for rec in records:  # the task's phases, shared evenly by its replicates (harness.sbc.timing)
        rec["wall_s"] = (end - start) / n
        rec["compile_s"] = compile_s / n
        rec["simulate_s"] = max(0.0, simulated - start - context_compile_s) / n
        rec["fit_wall_s"] = max(0.0, fitted - simulated - (compile_s - context_compile_s)) / n
        rec["rank_s"] = (end - fitted) / n
        rec["worker"] = worker_id()
        rec["compiled"] = compiled_here
        rec["compile_cached"] = cache_hit if compiled_here else None
    return records
