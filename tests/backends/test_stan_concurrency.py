"""Two processes at once build and sample the same Stan model (PyStan/httpstan).

Each process has its own harness cache (``PPL_HARNESS_CACHE``); both share one fresh httpstan cache
(``XDG_CACHE_HOME`` in a temporary folder), so the model is built cold while the other process wants
it too. ``harness.backends.stan`` serialises the build on a lock next to httpstan's model directory
and lets only the last user empty the fit cache; every fit of both processes must be ok.

A cold httpstan build takes about a minute and ~2 GB of memory: the test takes ~90 s on 2 cores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

FITS = 3  # samples per process, each a fresh request to httpstan with its own seed

# One process: wait until both have started, then compile and sample FITS times; print a JSON report.
_SCRIPT = r"""
import json, sys, time, traceback
from pathlib import Path

import numpy as np

barrier, me, fits = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
(barrier / f"ready-{me}").touch()
deadline = time.monotonic() + 120
while len(list(barrier.glob("ready-*"))) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)

from harness.backends import stan as backend
from harness.catalogue import get_model
from harness.settings import SamplerSettings

spec = get_model("eight_schools_noncentered")
data = spec.data()
settings = SamplerSettings(chains=2, warmup=200, draws=200)
report = {"start": time.time(), "fits": []}
try:
    compiled = backend.compile(spec, data, settings)
    report["compile_s"], report["cache_hit"] = compiled.compile_s, compiled.cache_hit
except Exception:
    report["compile_error"] = traceback.format_exc()[-3000:]
    compiled = None
for i in range(fits if compiled is not None else 0):
    try:
        fit = backend.sample(compiled, data, settings, 1000 * (1 + int(me == "b")) + i)
        shapes = {k: v.shape for k, v in fit.draws.items()}
        finite = all(np.all(np.isfinite(v)) for v in fit.draws.values())
        ok = finite and shapes["theta_trans"] == (2, 200, 8) and fit.sampling_s > 0
        report["fits"].append({"ok": bool(ok), "shapes": {k: list(s) for k, s in shapes.items()},
                               "mu0": float(fit.draws["mu"][0, 0])})
    except Exception:
        report["fits"].append({"ok": False, "error": traceback.format_exc()[-3000:]})
print("REPORT " + json.dumps(report))
"""


def _skip_without_pystan():
    missing = [m for m in ("stan", "httpstan") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"PyStan unavailable here: not installed: {', '.join(missing)}")


def test_two_processes_build_and_sample_the_same_model_with_a_fresh_httpstan_cache(tmp_path):
    _skip_without_pystan()
    root = Path(__file__).resolve().parents[2]
    xdg = tmp_path / "xdg-cache"  # fresh httpstan cache shared by both processes: a cold build
    barrier = tmp_path / "barrier"
    xdg.mkdir()
    barrier.mkdir()
    procs = {}
    for me in ("a", "b"):
        env = {**os.environ, "XDG_CACHE_HOME": str(xdg), "PPL_HARNESS_CACHE": str(tmp_path / f"harness-{me}"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
               "PYTHONWARNINGS": "ignore"}
        workdir = tmp_path / f"cwd-{me}"
        workdir.mkdir()
        procs[me] = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(barrier), me, str(FITS)], env=env,
                                     cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    reports = {}
    for me, proc in procs.items():
        try:
            out, _ = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            for p in procs.values():
                p.kill()
            pytest.fail(f"process {me} did not finish in 900 s")
        lines = [line for line in out.splitlines() if line.startswith("REPORT ")]
        assert proc.returncode == 0 and lines, f"process {me} exited {proc.returncode}:\n{out[-4000:]}"
        reports[me] = json.loads(lines[-1][len("REPORT "):])
    wall = time.monotonic() - start
    for me, report in reports.items():
        assert "compile_error" not in report, f"process {me}: {report.get('compile_error')}"
        assert len(report["fits"]) == FITS, report
        bad = [f for f in report["fits"] if not f["ok"]]
        assert not bad, f"process {me}: {bad}"
    # exactly one process built the model; the other found it in httpstan's cache
    assert sorted(r["cache_hit"] for r in reports.values()) == [False, True], reports
    # different seeds: different draws (no fit was served from httpstan's fit cache to the wrong request)
    assert len({f["mu0"] for r in reports.values() for f in r["fits"]}) == 2 * FITS
    # the harness caches stayed separate and the httpstan cache is the fresh one
    assert any(xdg.rglob("*.so")), "the model was built into the fresh XDG_CACHE_HOME"
    assert not list((tmp_path / "cwd-a").iterdir()) and not list((tmp_path / "cwd-b").iterdir())
    print(f"two concurrent Stan processes: {wall:.0f} s")
