"""One cell (model x backend x repeat) in its own process: ``python -m harness.worker TASK.json``.

The runner starts this with the thread/device environment already set (``harness.threads``), waits
with a timeout, and turns a crash or a hang into a record itself. Everything that can fail inside a
cell becomes a record with a status and the error text.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from harness.results import write_json_atomic

RHAT_FLAG = 1.01
LOW_ESS_FLAG = 100


def size_label(spec, size: dict) -> str:
    """'N=1000,D=10' for size-scalable models (defaults filled in), '' for fixed-size ones."""
    full = {**spec.size_defaults, **size}
    return ",".join(f"{k}={v}" for k, v in full.items())


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def _flags(metrics: dict, chains: int) -> str:
    flags = []
    if metrics["divergences"]:
        flags.append("divergences")
    if chains > 1 and not metrics["rhat_max"] <= RHAT_FLAG:
        flags.append("rhat")
    if not metrics["ess_bulk_min"] >= LOW_ESS_FLAG:
        flags.append("low_ess")
    return ",".join(flags)


def run_cell(task: dict) -> dict:
    """Compile, sample and diagnose one cell; never raises."""
    from harness.settings import SamplerSettings

    settings = SamplerSettings(**task["settings"])
    record = {
        "cell_id": task["cell_id"], "model": task["model"], "backend": task["backend"],
        "repeat": task["repeat"], "seed": task["seed"], "device": settings.device, "size": "",
        **settings.to_dict(), "status": "failed", "error": "",
    }
    start = time.perf_counter()
    try:
        from harness.backends import BackendUnavailableError, get_backend
        from harness.catalogue import get_model
        from harness.metrics import fit_metrics

        spec = get_model(task["model"])
        record["size"] = size_label(spec, task["size"])
        data = spec.data(**task["size"])
        record["data_size"] = int(sum(np.size(data[k]) for k in spec.observed))
        try:
            backend = get_backend(task["backend"])
        except BackendUnavailableError as err:
            return {**record, "status": "unavailable", "error": str(err)}
        if settings.device == "gpu":
            if "gpu" not in backend.DEVICES:
                return {**record, "status": "skipped", "error": f"{task['backend']} runs on the CPU only"}
            ok, why = backend.gpu_available()
            if not ok:
                return {**record, "status": "skipped", "error": f"no GPU: {why}"}
        record["versions"] = backend.versions()
        compiled = backend.compile(spec, data, settings)
        fit = backend.sample(compiled, data, settings, task["seed"])
        total_s = time.perf_counter() - start
        bad = [k for k, v in fit.draws.items() if not np.all(np.isfinite(v))]
        if bad:
            raise FloatingPointError(f"non-finite draws in {bad}")
        metrics = fit_metrics(fit, spec.with_derived(fit.draws, data))
        ess = metrics["ess_bulk_min"]
        record.update(metrics)
        record.update(
            status="ok",
            compile_s=compiled.compile_s + fit.extra_compile_s,
            cache_hit=compiled.cache_hit,
            warmup_s=fit.warmup_s,
            sampling_s=fit.sampling_s,
            total_s=total_s,
            ess_per_s=ess / fit.sampling_s if fit.sampling_s > 0 else math.nan,
            ess_per_s_total=ess / total_s,
            flags=_flags(metrics, settings.chains),
            backend_info={**compiled.info, **fit.info},
        )
    except Exception as err:  # a failing cell is a result, not a crash of the run
        record["status"] = "failed"
        record["error"] = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exc()[-4000:])
    finally:
        record["peak_rss_mb"] = _peak_rss_mb()
        record.setdefault("total_s", time.perf_counter() - start)
    return record


def main(argv: list[str]) -> int:
    task = json.loads(Path(argv[0]).read_text())
    record = run_cell(task)
    write_json_atomic(Path(task["output"]), record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
