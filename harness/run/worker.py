"""One cell (model x backend x repeat) in its own process: ``python -m harness.run.worker TASK.json``.

The runner starts this with the thread/device environment already set (``harness.threads``), waits
with a timeout, and turns a crash or a hang into a record itself. Everything that can fail inside a
cell becomes a record with a status and the error text.

Where the cell's time goes (every record, seconds): ``startup_s`` (from the runner starting the
process to this module running: interpreter start and the harness's own imports), ``import_s`` (the
backend's libraries), ``compile_s``, ``warmup_s``, ``sampling_s`` (the backend's phases, see
``harness.backends.base``), ``overhead_s`` (the rest of the sampling call: chain start-up, draws
conversion, HTTP round trips), ``diagnostics_s`` (ESS, R-hat, accuracy) and ``write_s`` (the draws file).
"""

from __future__ import annotations

import time

_T0 = time.time()  # before any import of this process but the interpreter's own: the end of start-up

import importlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from harness.diagnostics import ESS_MIN, RHAT_MAX  # noqa: E402
from harness.resources import peak_device_mb, peak_rss_mb, tree_cpu_seconds  # noqa: E402
from harness.results import write_json_atomic  # noqa: E402

PHASES = ("startup_s", "import_s", "compile_s", "warmup_s", "sampling_s", "overhead_s", "diagnostics_s", "write_s")


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
    if task.get("started"):
        record["startup_s"] = max(0.0, _T0 - float(task["started"]))
    start = time.perf_counter()
    backend = None
    try:
        from harness.accuracy import accuracy, cell_statistics
        from harness.backends import BackendUnavailableError, get_backend, optional_hook
        from harness.catalogue import get_model
        from harness.metrics import fit_metrics
        from harness.results import write_csv_atomic

        spec = get_model(task["model"])
        record["size"] = spec.size_label(task["size"])
        data = spec.data(**task["size"])
        record["data_size"] = spec.n_observed(data)
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
        clock = time.perf_counter()
        for module in backend.CAPABILITIES.requires:
            importlib.import_module(module)
        record["versions"] = backend.versions()
        record["import_s"] = time.perf_counter() - clock
        compiled = backend.compile(spec, data, settings)
        cpu_before, wall_before = tree_cpu_seconds(), time.perf_counter()
        fit = backend.sample(compiled, data, settings, task["seed"])
        sample_wall_s = time.perf_counter() - wall_before
        record.update(sample_wall_s=sample_wall_s, sample_cpu_s=tree_cpu_seconds() - cpu_before)
        clock = time.perf_counter()
        bad = [k for k, v in fit.draws.items() if not np.all(np.isfinite(v))]
        if bad:
            raise FloatingPointError(f"non-finite draws in {bad}")
        reported = spec.with_derived(fit.draws, data)
        metrics = fit_metrics(fit, reported)
        ess = metrics["ess_bulk_min"]
        record.update(metrics)
        record["divergent_draws"] = int(fit.diverging.size)
        # per chain, for recommend's comparison of divergence rates (divergences cluster within chains)
        record["divergences_by_chain"] = ";".join(str(int(n)) for n in np.sum(fit.diverging, axis=-1).reshape(-1))
        statistics = cell_statistics(reported)
        if task.get("accuracy_path"):
            Path(task["accuracy_path"]).parent.mkdir(parents=True, exist_ok=True)
            write_csv_atomic(Path(task["accuracy_path"]), statistics)
        record.update(accuracy(spec.name, record["size"], reported, statistics=statistics))
        record["diagnostics_s"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if task.get("draws_path"):
            save_draws(Path(task["draws_path"]), fit, record, settings)
            record["draws_file"] = Path(task["draws_path"]).name
        record["write_s"] = time.perf_counter() - clock
        total_s = time.perf_counter() - start
        record.update(
            status="ok",
            compile_s=compiled.compile_s + fit.extra_compile_s,
            cache_hit=compiled.cache_hit,
            warmup_s=fit.warmup_s,
            sampling_s=fit.sampling_s,
            overhead_s=max(0.0, sample_wall_s - fit.warmup_s - fit.sampling_s - fit.extra_compile_s),
            total_s=total_s,
            ess_per_s=ess / fit.sampling_s if fit.sampling_s > 0 else math.nan,
            ess_per_s_total=ess / total_s,
            sampling_per_grad=fit.sampling_s / metrics["n_grad"] if metrics["n_grad"] else math.nan,
            flags=_flags(metrics, settings.chains),
            sampler={**compiled.info, **fit.info}.get("sampler", task["backend"]),
            backend_info={**compiled.info, **fit.info},
        )
    except Exception as err:  # a failing cell is a result, not a crash of the run
        record["status"] = "failed"
        record["error"] = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exc()[-4000:])
    finally:
        record["peak_rss_mb"] = peak_rss_mb()
        record["peak_device_mb"] = peak_device_mb(backend)
        record.setdefault("total_s", time.perf_counter() - start)
    return record


def main(argv: list[str]) -> int:
    task = json.loads(Path(argv[0]).read_text())
    record = run_cell(task)
    write_json_atomic(Path(task["output"]), record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
