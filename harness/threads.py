"""Thread and device environment of a cell's worker process, fixed before any library is imported."""

from __future__ import annotations

import os


def worker_env(cores: int, device: str, base: dict | None = None) -> dict[str, str]:
    """Environment for a worker with a budget of ``cores`` threads on ``device`` ("cpu" or "gpu").

    BLAS/OpenMP pools, XLA's CPU thread pool and torch's intra-op pool are capped at ``cores``;
    JAX dispatch on CPU is synchronous so that a clock read after ``block_until_ready`` is exact.
    """
    env = dict(os.environ if base is None else base)
    n = str(cores)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = n
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "intra_op_parallelism_threads" not in f
             and "xla_cpu_multi_thread_eigen" not in f]
    if cores == 1:
        flags += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    env["XLA_FLAGS"] = " ".join(flags)
    env["JAX_CPU_ENABLE_ASYNC_DISPATCH"] = "false"
    env["PPL_HARNESS_TORCH_THREADS"] = n
    env["JAX_PLATFORMS"] = "cpu" if device == "cpu" else ""
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.setdefault("MPLBACKEND", "Agg")
    return env
