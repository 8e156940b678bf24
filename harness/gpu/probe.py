"""Ask each backend once whether it sees a GPU: ``python -m harness.gpu.probe NAME ...`` prints JSON.

Run in the GPU cell environment before any cell starts. Where a backend sees no GPU, gpu-check
records its GPU cells as ``skipped`` with the same reason a cell's worker would give (``no GPU: ...``)
instead of starting one process per cell just to be told so (seconds of imports each on a small CI
machine). Where the probe itself fails, nothing is pre-skipped: every cell's worker decides.
"""

from __future__ import annotations

import json
import subprocess
import sys


def probe(names: list[str]) -> dict[str, list]:
    from harness.backends import get_backend, optional_hook

    out = {}
    for name in names:
        try:
            module = get_backend(name)
            gpu_available = optional_hook(module, "gpu_available")
            if "gpu" not in module.CAPABILITIES.devices or gpu_available is None:
                out[name] = [False, f"{name} runs on the CPU only"]
                continue
            ok, why = gpu_available()
            out[name] = [bool(ok), str(why)]
        except Exception as err:
            out[name] = [False, f"{type(err).__name__}: {err}"]
    return out


def probe_in_subprocess(names: list[str], cores: int, timeout_s: float = 120.0) -> dict[str, list] | None:
    """{name: [ok, why]} from a subprocess with the GPU cell environment; None when the probe fails."""
    from harness.threads import worker_env

    if not names:
        return {}
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.gpu.probe", *names], capture_output=True, text=True,
                              check=False, env=worker_env(cores, "gpu"), timeout=timeout_s)
        return json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError, IndexError):
        return None


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))
