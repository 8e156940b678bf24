"""SBC throughput of one backend on one device: ``python -m harness.gpu.sbc_worker TASK.json``.

Started by ``harness.gpu.parts`` with the cell environment (``harness.threads.worker_env``) and a
timeout. It compiles the model once (``backend.compile``), then for each batch size B, smallest
first: simulates B data sets from the model's numpy prior exactly as SBC does
(``harness.sbc.worker.simulate``: replicates 0..B-1 of the root seed), fits them in one
``backend.sample_batch`` call, and appends one JSON line to the task's ``output``, so a timeout
keeps every finished batch size.

Each line: backend, model, device, batch, status, compile_s (the model), batch_compile_s (the
batched program, reported by the backend as ``extra_compile_s``), fit_wall_s (the ``sample_batch``
call minus its compile), reps_per_min (B / fit_wall_s x 60: what the goal is measured on),
sampler_reps_per_min (from the backend's own warm-up + sampling phases), simulate_s, the
divergent and non-finite fractions, a rank check on the first few replicates (``ranks_ok`` of
``ranks_checked``; ``low_ess`` counts as not ok), peak host and device memory.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def _write(path: Path, row: dict) -> None:
    from harness.results import json_default

    with open(path, "a") as fh:
        fh.write(json.dumps(row, default=json_default) + "\n")
        fh.flush()


def run(task: dict) -> None:
    from harness.resources import peak_device_mb, peak_rss_mb

    out = Path(task["output"])
    base = {"backend": task["backend"], "model": task["model"], "device": task["device"]}
    batches = list(task["batches"])

    def all_rows(status: str, error: str) -> None:
        for b in batches:
            _write(out, {**base, "batch": b, "status": status, "error": error})

    try:
        from harness.backends import BackendUnavailableError, get_backend
        from harness.backends.base import SupportsBatch, SupportsGpu
        from harness.catalogue import get_model
        from harness.sbc.ranks import replicate_ranks
        from harness.sbc.worker import simulate
        from harness.settings import SamplerSettings

        spec = get_model(task["model"])
        data = spec.data()
        settings = SamplerSettings(**task["settings"])
        try:
            backend = get_backend(task["backend"])
        except BackendUnavailableError as err:
            return all_rows("unavailable", str(err))
        if not isinstance(backend, SupportsBatch):
            return all_rows("skipped", f"{task['backend']} has no sample_batch")
        if settings.device == "gpu":
            if not isinstance(backend, SupportsGpu) or "gpu" not in backend.CAPABILITIES.devices:
                return all_rows("skipped", f"{task['backend']} runs on the CPU only")
            ok, why = backend.gpu_available()
            if not ok:
                return all_rows("skipped", f"no GPU: {why}")
        versions = backend.versions()
        start = time.perf_counter()
        compiled = backend.compile(spec, data, settings)
        compile_s = time.perf_counter() - start
    except Exception as err:
        return all_rows("failed", f"{type(err).__name__}: {err}\n" + traceback.format_exc()[-3000:])

    for batch in batches:
        row = {**base, "batch": batch, "status": "failed", "error": "", "compile_s": compile_s,
               "chains": settings.chains, "warmup": settings.warmup, "draws": settings.draws,
               "versions": versions}
        try:
            t0 = time.perf_counter()
            sims = [simulate(spec, data, task["root_seed"], i) for i in range(batch)]
            row["simulate_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            fits = backend.sample_batch(compiled, [s[1] for s in sims], settings, [s[2] for s in sims])
            wall = time.perf_counter() - t0
            if len(fits) != batch:
                raise RuntimeError(f"sample_batch returned {len(fits)} fits for {batch} data sets")
            batch_compile = float(sum(f.extra_compile_s for f in fits))
            fit_wall = max(wall - batch_compile, 1e-9)
            sampler_s = float(sum(f.warmup_s + f.sampling_s for f in fits))
            nonfinite = sum(not all(np.all(np.isfinite(v)) for v in f.draws.values()) for f in fits)
            divergent = sum(bool(np.any(f.diverging)) for f in fits)
            checked, ranks_ok, rank_s = 0, 0, 0.0
            t0 = time.perf_counter()
            for (truth, data_sim, _, ties), fit in list(zip(sims, fits))[: task["rank_check"]]:
                checked += 1
                try:
                    r = replicate_ranks(spec, data_sim, truth, fit.draws, task["kept"], ties)
                    ranks_ok += r.status == "ok"
                except Exception:
                    pass
            rank_s = time.perf_counter() - t0
            row.update(
                status="ok", batch_compile_s=batch_compile, fit_wall_s=fit_wall,
                reps_per_min=batch / fit_wall * 60.0,
                sampler_s=sampler_s, sampler_reps_per_min=batch / sampler_s * 60.0 if sampler_s > 0 else None,
                divergent_frac=divergent / batch, nonfinite=int(nonfinite),
                ranks_checked=checked, ranks_ok=int(ranks_ok),
                rank_s_per_rep=rank_s / checked if checked else None,
            )
            del fits, sims
        except Exception as err:  # one batch size failing (e.g. out of device memory) must not stop the rest
            row["error"] = f"{type(err).__name__}: {err}\n" + traceback.format_exc()[-3000:]
        row["peak_rss_mb"] = peak_rss_mb()
        row["peak_device_mb"] = peak_device_mb(backend)
        _write(out, row)


def main(argv: list[str]) -> int:
    run(json.loads(Path(argv[0]).read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
