"""Thread and device environment of a cell's worker process, fixed before any library is imported."""

from __future__ import annotations

import os

GENERIC_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def worker_env(cores: int, device: str, base: dict | None = None, backends: list[str] | None = None) -> dict[str, str]:
    """Environment for a worker with a budget of ``cores`` threads on ``device`` ("cpu" or "gpu").

    The generic BLAS/OpenMP pools are capped here; each backend module caps its own library's pools
    (XLA, torch, numba, Stan) in its optional ``worker_env(cores, device)``. ``backends`` (default:
    every registered one) are the modules asked; their variables never clash, so one environment
    serves any of them.
    """
    from harness.backends import backend_names, load_module, optional_hook

    env = dict(os.environ if base is None else base)
    for var in GENERIC_THREAD_VARS:
        env[var] = str(cores)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    for name in backends if backends is not None else backend_names():
        hook = optional_hook(load_module(name), "worker_env")
        if hook is not None:
            env.update(hook(cores, device))
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.setdefault("MPLBACKEND", "Agg")
    return env
