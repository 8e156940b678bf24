"""The noxfile's shared stack virtualenvs survive two sessions started together on an empty cache.

Two processes run ``noxfile.stack_python`` at once with an empty ``PPL_HARNESS_CACHE``, as two nox
sessions do (CI running lint and tests in parallel). The session object runs the real ``python -m
venv``; the package installs are replaced by a two-second stand-in that records each call, so the test
takes seconds, not a 5 GB install. Without the lock the second process finds the first one's half-made
virtualenv ("No module named pip") or installs into it at the same time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SESSION = textwrap.dedent("""
    import json, os, subprocess, sys, time
    sys.path.insert(0, {root!r})
    import noxfile

    class Session:
        posargs = []
        def __init__(self):
            self.env = {{}}
        def run(self, *args, external=False, **kw):
            if "pip" in args and "install" in args:
                with open(os.environ["INSTALL_LOG"], "a") as fh:
                    fh.write(json.dumps({{"pid": os.getpid(), "start": time.time()}}) + "\\n")
                time.sleep(2.0)
                return
            subprocess.run(args, check=True)
        def error(self, msg):
            raise SystemExit(msg)

    print(noxfile.stack_python(Session(), "oldest"))
""")


def test_two_sessions_on_an_empty_cache_build_the_venv_once(tmp_path):
    cache = tmp_path / "cache"
    log = tmp_path / "installs.jsonl"
    env = {"PPL_HARNESS_CACHE": str(cache), "INSTALL_LOG": str(log), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    import os

    env = {**os.environ, **env}
    script = SESSION.format(root=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    assert len({out.strip() for out, _ in outs}) == 1  # both sessions use the one virtualenv
    venv = cache / "venvs" / "oldest"
    assert (venv / ".ppl-harness-installed").is_file()
    assert subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True).returncode == 0
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == 3 and len({c["pid"] for c in calls}) == 1  # one install (3 pip calls), by one session
