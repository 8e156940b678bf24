"""One cell (model x backend x repeat) in its own process: ``python -m harness.worker TASK.json``.

The runner starts this with the thread/device environment already set (``harness.threads``), waits
with a timeout, and turns a crash or a hang into a record itself. Everything that can fail inside a
cell becomes a record with a status and the error text.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from harness.diagnostics import ESS_MIN, RHAT_MAX
from harness.results import write_json_atomic


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def _peak_device_mb(backend) -> float | None:
    """The backend's optional ``peak_device_memory_mb()`` (accelerator memory, MiB); None without one."""
    from harness.backends import optional_hook

    hook = optional_hook(backend, "peak_device_memory_mb") if backend is not None else None
    if hook is None:
        return None
    try:
        value = hook()
    except Exception:  # a diagnostic must never fail the cell
        return None
    return None if value is None else float(value)


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every process of its session, reaped or alive.

    A cell's worker leads its own session (the runner starts it with ``start_new_session``), so this
    counts threads and helper processes a backend starts (httpstan's pool, nutpie's threads).
    Linux ``/proc``; elsewhere only this process and its reaped children.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    session, total = os.getsid(0), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:  # fields[0] is field 3 of stat(5): state
            total += sum(int(v) for v in fields[11:15]) / tick  # utime, stime, cutime, cstime
    if total == 0.0:
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        total = sum(u.ru_utime + u.ru_stime for u in usage)
    return total


def save_draws(path: Path, fit, record: dict, settings) -> None:
    """The cell's fit as InferenceData (netCDF): ``posterior`` in the catalogue's names, ``sample_stats``
    (``diverging``, ``n_steps`` and ``lp`` where the backend gives it), the cell's settings and seed as attrs."""
    from harness.diagnostics import save_inference_data

    path.parent.mkdir(parents=True, exist_ok=True)
    stats = {"diverging": fit.diverging, "n_steps": fit.n_steps, **fit.sample_stats}
    keys = ("cell_id", "model", "size", "backend", "repeat", "seed", "device")
    save_inference_data(path, fit.draws, stats, {**{k: record[k] for k in keys}, **settings.to_dict()})


def _flags(metrics: dict, chains: int) -> str:
    flags = []
    if metrics["divergences"]:
        flags.append("divergences")
    if chains > 1 and not metrics["rhat_max"] <= RHAT_MAX:
        flags.append("rhat")
    if not metrics["ess_bulk_min"] >= ESS_MIN:
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
    backend = None
    try:
        from harness.backends import BackendUnavailableError, get_backend, optional_hook
        from harness.catalogue import get_model
        from harness.metrics import fit_metrics

        spec = get_model(task["model"])
        record["size"] = spec.size_label(task["size"])
        data = spec.data(**task["size"])
        record["data_size"] = int(sum(np.size(data[k]) for k in spec.observed))
        try:
            backend = get_backend(task["backend"])
        except BackendUnavailableError as err:
            return {**record, "status": "unavailable", "error": str(err)}
        if settings.device == "gpu":
            gpu_available = optional_hook(backend, "gpu_available")
            if "gpu" not in backend.CAPABILITIES.devices or gpu_available is None:
                return {**record, "status": "skipped", "error": f"{task['backend']} runs on the CPU only"}
            ok, why = gpu_available()
            if not ok:
                return {**record, "status": "skipped", "error": f"no GPU: {why}"}
        record["versions"] = backend.versions()
        compiled = backend.compile(spec, data, settings)
        cpu_before, wall_before = tree_cpu_seconds(), time.perf_counter()
        fit = backend.sample(compiled, data, settings, task["seed"])
        sample_wall_s = time.perf_counter() - wall_before
        record.update(sample_wall_s=sample_wall_s, sample_cpu_s=tree_cpu_seconds() - cpu_before)
        total_s = time.perf_counter() - start
        bad = [k for k, v in fit.draws.items() if not np.all(np.isfinite(v))]
        if bad:
            raise FloatingPointError(f"non-finite draws in {bad}")
        metrics = fit_metrics(fit, spec.with_derived(fit.draws, data))
        ess = metrics["ess_bulk_min"]
        record.update(metrics)
        from harness.reference.accuracy import accuracy

        record.update(accuracy(spec.name, record["size"], spec.with_derived(fit.draws, data)))
        if task.get("draws_path"):
            save_draws(Path(task["draws_path"]), fit, record, settings)
            record["draws_file"] = Path(task["draws_path"]).name
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
            sampler={**compiled.info, **fit.info}.get("sampler", task["backend"]),
            backend_info={**compiled.info, **fit.info},
        )
    except Exception as err:  # a failing cell is a result, not a crash of the run
        record["status"] = "failed"
        record["error"] = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exc()[-4000:])
    finally:
        record["peak_rss_mb"] = _peak_rss_mb()
        record["peak_device_mb"] = _peak_device_mb(backend)
        record.setdefault("total_s", time.perf_counter() - start)
    return record


def main(argv: list[str]) -> int:
    task = json.loads(Path(argv[0]).read_text())
    record = run_cell(task)
    write_json_atomic(Path(task["output"]), record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
