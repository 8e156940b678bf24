"""harness.provenance (what a run's manifest records) and harness.paths (cache root, run-directory stamps)."""

import datetime as dt
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import paths, provenance
from harness.backends import packages

ROOT = Path(__file__).resolve().parent.parent


def installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_package_versions_holds_the_installed_core_and_registry_packages():
    versions = provenance.package_versions()
    for name in ("numpy", "pandas", "scipy"):  # dependencies of the harness: always installed
        assert versions[name] == importlib.metadata.version(name)
    wanted = dict.fromkeys([*provenance.CORE_PACKAGES, *packages()])
    assert set(versions) == {name for name in wanted if installed(name)}
    assert all(isinstance(v, str) and v for v in versions.values())


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="no git")
def test_git_state_of_a_repository_clean_dirty_and_untracked(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = git(tmp_path, "rev-parse", "HEAD")
    assert provenance.git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "new.txt").write_text("untracked files do not make a checkout dirty\n")
    assert provenance.git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a.txt").write_text("two\n")
    assert provenance.git_state(tmp_path) == {"commit": head, "dirty": True}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_git_state_of_this_checkout():
    state = provenance.git_state()  # default: the repository holding harness/
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"])
    assert state["commit"] == git(ROOT, "rev-parse", "HEAD")
    assert isinstance(state["dirty"], bool)


def test_git_state_outside_a_repository(tmp_path):
    env_dir = tmp_path / "not_a_repo"
    env_dir.mkdir()
    if shutil.which("git") and subprocess.run(["git", "rev-parse"], cwd=env_dir, capture_output=True).returncode == 0:
        pytest.skip("the temporary directory lies inside a git repository")
    assert provenance.git_state(env_dir) == {"commit": None, "dirty": None}


def test_machine_facts():
    facts = provenance.machine()
    assert set(facts) == {"hostname", "platform", "python", "cpu", "cpu_count", "gpu"}
    assert facts["python"] == ".".join(map(str, __import__("sys").version_info[:3]))
    assert facts["cpu_count"] == os.cpu_count() and isinstance(facts["cpu"], str)
    assert facts["gpu"] is None or isinstance(facts["gpu"], str)


def test_collect_is_the_manifest_and_serialises_to_json():
    settings = {"chains": 2, "draws": 100}
    manifest = provenance.collect(settings, ["python", "-m", "harness", "run"])
    assert set(manifest) == {"created", "command", "machine", "packages", "git", "settings"}
    assert manifest["settings"] == settings and manifest["command"] == ["python", "-m", "harness", "run"]
    created = dt.datetime.fromisoformat(manifest["created"])
    assert created.tzinfo is not None and abs(dt.datetime.now(dt.timezone.utc) - created) < dt.timedelta(minutes=5)
    assert set(manifest["git"]) == {"commit", "dirty"} and "numpy" in manifest["packages"]
    assert json.loads(json.dumps(manifest)) == manifest
    assert isinstance(provenance.collect({})["command"], list)  # default: this process's sys.argv


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PPL_HARNESS_CACHE", str(tmp_path / "cache"))
    assert paths.cache_root() == tmp_path / "cache"
    for unset in (None, ""):
        if unset is None:
            monkeypatch.delenv("PPL_HARNESS_CACHE")
        else:
            monkeypatch.setenv("PPL_HARNESS_CACHE", unset)
        assert paths.cache_root() == Path.home() / ".cache" / "ppl-harness"


def test_utc_stamp_is_sortable_utc_now():
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    stamp = paths.utc_stamp()
    after = dt.datetime.now(dt.timezone.utc)
    assert re.fullmatch(r"\d{8}T\d{6}Z", stamp)
    parsed = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert before <= parsed <= after
