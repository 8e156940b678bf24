"""ENVs of an A/B run: which interpreter and which checkout of the harness each side runs.

An ENV is one of (tried in this order; a prefix ``python:``, ``req:`` or ``git:`` forces the kind):

* ``current`` (or ``.``): this interpreter and this checkout (the working tree);
* a path to a Python interpreter: that interpreter, with this checkout's harness and models;
* a requirement set, e.g. ``numpyro==0.21.0`` or ``"pymc==5.28.5 pytensor==2.38.3"`` (spaces or
  commas between requirements): an *overlay* virtualenv built with uv in
  ``$PPL_HARNESS_CACHE/ab-envs/<hash>`` on top of the base interpreter (``--base-python``, default
  this one): it holds only the listed packages (``uv pip install --no-deps``) and sees every other
  package of the base environment through a ``.pth`` file, so it is built in seconds and the two
  sides differ in exactly the listed packages. When the new versions need other dependency
  versions, list those too;
* a git ref of the project (``origin/main``, ``HEAD~1``, a tag or a commit): a worktree of that
  commit in ``$PPL_HARNESS_CACHE/ab-src/<commit>``, run with the base interpreter and that
  checkout's harness, models and catalogue (``PYTHONPATH`` and the working directory point at it).

Every side's runs get ``PYTHONPATH=<its checkout>`` and its extra variables (``--a-env``/``--b-env``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessInputError
from harness.paths import cache_root

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
_REQ = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(\[[A-Za-z0-9,._\-]+\])?\s*(==|>=|<=|~=|!=|===|<|>)\s*[A-Za-z0-9.*+!_\-]+$")


class EnvError(HarnessInputError):
    """An ENV that cannot be resolved or built."""


@dataclass
class Env:
    spec: str
    kind: str                      # current | python | requirements | git
    python: str
    root: Path                     # checkout whose harness, models and catalogue this side runs
    extra_env: dict[str, str] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    commit: str | None = None

    def child_env(self, base: dict | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.root), env.get("PYTHONPATH")]))
        env.update(self.extra_env)
        return env

    def describe(self) -> dict:
        return {"spec": self.spec, "kind": self.kind, "python": self.python, "root": str(self.root),
                "extra_env": self.extra_env, "requirements": self.requirements, "commit": self.commit}




def parse_requirements(text: str) -> list[str] | None:
    """'numpyro==0.21.0, jax==0.10.2' -> the list; None when it is not a requirement set."""
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if parts and all(_REQ.match(p) for p in parts):
        return parts
    return None


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise EnvError(f"environment variable {item!r} must look like NAME=VALUE")
        out[key.strip()] = value
    return out


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise EnvError(f"{what} failed ({' '.join(cmd)}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc.stdout


def _uv() -> list[str]:
    found = os.environ.get("PPL_HARNESS_UV") or shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # noqa: F401  (the PyPI package ships the binary)
        from uv import find_uv_bin
        return [find_uv_bin()]
    except ImportError:
        raise EnvError("a requirement-set ENV needs uv: `pip install uv` (or set PPL_HARNESS_UV)") from None


def overlay_env(requirements: list[str], base_python: str, cache: Path | None = None) -> str:
    """The overlay virtualenv's interpreter (built once per base interpreter and requirement set)."""
    base_python = str(Path(base_python).absolute())
    key = hashlib.sha256(json.dumps([os.path.realpath(base_python), base_python, sorted(requirements)]).encode())
    venv = (cache or cache_root()) / "ab-envs" / key.hexdigest()[:16]
    python = venv / "bin" / "python"
    marker = venv / ".ppl-harness-ab.json"
    wanted = {"base_python": base_python, "requirements": sorted(requirements)}
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return str(python)
    query = "import json, sysconfig; p = sysconfig.get_paths(); print(json.dumps([p['purelib'], p['platlib']]))"
    base_sites = list(dict.fromkeys(json.loads(_run([base_python, "-c", query], "reading the base environment"))))
    uv = _uv()
    _run([*uv, "venv", "--quiet", "--allow-existing", "--python", base_python, str(venv)], "uv venv")
    site_dir = Path(json.loads(_run([str(python), "-c", query], "reading the overlay environment"))[0])
    # the base environment's packages (and its own .pth files, e.g. editable installs) after the overlay's
    lines = [f"import site; site.addsitedir({s!r})" for s in base_sites]
    (site_dir / "_ppl_harness_ab_base.pth").write_text("\n".join(lines) + "\n")
    _run([*uv, "pip", "install", "--quiet", "--python", str(python), "--no-deps", *requirements],
         f"installing {' '.join(requirements)} with uv")
    marker.write_text(json.dumps(wanted))
    return str(python)


def git_checkout(ref: str, repo: Path = REPO_ROOT, cache: Path | None = None) -> tuple[Path, str]:
    """(worktree of ``ref``'s commit in the cache, the commit)."""
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise EnvError(f"ENV {ref!r} is not the current checkout, an interpreter, a requirement set "
                       f"(pkg==version ...) or a git ref of {repo}")
    commit = proc.stdout.strip()
    target = (cache or cache_root()) / "ab-src" / commit[:16]
    if not (target / "harness" / "__init__.py").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)
        _run(["git", "worktree", "add", "--detach", "--force", str(target), commit], f"checking out {ref}", cwd=repo)
    return target, commit


def resolve_env(spec: str, *, base_python: str | None = None, extra_env: dict[str, str] | None = None,
                repo: Path = REPO_ROOT, cache: Path | None = None) -> Env:
    """An ENV spec -> an Env ready to run (requirement sets are built, git refs checked out)."""
    base_python = base_python or sys.executable
    extra = dict(extra_env or {})
    text = spec.strip()
    forced, _, rest = text.partition(":") if text.split(":", 1)[0] in ("python", "req", "git") else ("", "", text)
    if not forced and text in ("current", "."):
        return Env(spec, "current", base_python, repo, extra)
    if forced == "python" or (not forced and Path(text).is_file() and os.access(text, os.X_OK)):
        path = Path(rest)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise EnvError(f"ENV {spec!r}: {rest} is not an executable interpreter")
        return Env(spec, "python", str(path.absolute()), repo, extra)
    reqs = parse_requirements(rest)
    if forced == "req" or (not forced and reqs):
        if not reqs:
            raise EnvError(f"ENV {spec!r}: {rest!r} is not a requirement set like 'numpyro==0.21.0 jax==0.10.2'")
        return Env(spec, "requirements", overlay_env(reqs, base_python, cache), repo, extra, requirements=reqs)
    root, commit = git_checkout(rest, repo, cache)
    return Env(spec, "git", base_python, root, extra, commit=commit)
