"""A backend is one module: one registered through PPL_HARNESS_EXTRA_BACKENDS joins every suite unedited."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PLUGIN = "plugin_numpyro=ppl_harness_plugin_example"  # examples/plugin_backend: outside the tests' imports
SUITES = [
    "tests/backends/test_conformance.py", "tests/test_equivalence.py", "tests/test_prior.py",
    "tests/benchmarks/test_call_cost.py", "tests/backends/test_gpu.py",
]


def with_plugin_env() -> dict:
    env = dict(os.environ)
    env["PPL_HARNESS_EXTRA_BACKENDS"] = ",".join(filter(None, [env.get("PPL_HARNESS_EXTRA_BACKENDS"), PLUGIN]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "examples" / "plugin_backend"), env.get("PYTHONPATH")]))
    return env


def test_a_plugin_backend_is_collected_by_every_suite():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *SUITES],
                         capture_output=True, text=True, cwd=ROOT, env=with_plugin_env(), timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for suite in SUITES:
        ids = [line for line in out.stdout.splitlines() if line.startswith(suite)]
        assert any("plugin_numpyro" in i for i in ids), f"{suite} does not test the plugin backend"


def test_a_plugin_backend_joins_runs_provenance_sbc_and_thread_caps():
    probe = """
import json
from harness.backends import default_backends
from harness.provenance import CORE_PACKAGES
from harness.backends import packages
from harness.sbc.plan import default_sims
from harness.threads import worker_env
print(json.dumps({
    "default": default_backends(), "packages": packages(), "sims": default_sims(["plugin_numpyro"]),
    "env": worker_env(3, "cpu", {}).get("PLUGIN_THREADS"),
}))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                         env=with_plugin_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert "plugin_numpyro" in facts["default"] and "fake_exact" not in facts["default"]
    assert "plugin-only-dist" in facts["packages"]
    assert facts["sims"] == {"plugin_numpyro": 7}
    assert facts["env"] == "3"


def required_backends() -> list[str]:
    """Backends that must run here: ``PPL_HARNESS_REQUIRE_BACKENDS`` = "all" or a comma list (CI sets "all")."""
    from harness.backends import default_backends

    wanted = os.environ.get("PPL_HARNESS_REQUIRE_BACKENDS", "").strip()
    if wanted == "all":
        return default_backends()
    return [b.strip() for b in wanted.split(",") if b.strip()]


def test_required_backends_are_available():
    """Under CI a missing backend fails the suite here, instead of every test of it skipping silently."""
    from harness.backends import availability

    missing = {b: availability()[b] for b in required_backends() if availability()[b]}
    assert not missing, "required backends unavailable: " + "; ".join(f"{b}: {why}" for b, why in missing.items())


def test_an_unavailable_required_backend_fails(monkeypatch):
    monkeypatch.setenv("PPL_HARNESS_REQUIRE_BACKENDS", "fake_missing")
    assert required_backends() == ["fake_missing"]
    import pytest

    with pytest.raises(AssertionError, match="fake_missing: not installed"):
        test_required_backends_are_available()


def test_the_typed_registry_is_the_registry():
    """Every backend module under harness/backends/ (a module that declares CAPABILITIES) is in the typed
    registry that mypy checks, once, under its own name, in REGISTRY with the same module."""
    import importlib
    import pkgutil

    import harness.backends as package
    from harness.backends import REGISTRY
    from harness.backends.base import Capabilities
    from harness.backends.registry import BUILTIN

    declared = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"harness.backends.{info.name}")
        if isinstance(getattr(module, "CAPABILITIES", None), Capabilities):
            declared.append(module.__name__)
    builtin = [m.__name__ for m in BUILTIN]
    assert sorted(builtin) == sorted(declared), "a backend module is not in harness/backends/registry.py"
    names = [m.CAPABILITIES.name for m in BUILTIN]
    assert len(set(names)) == len(names)
    assert {n: REGISTRY[n] for n in names} == dict(zip(names, builtin))
    assert list(REGISTRY)[:len(names)] == names  # registry order is the order of tables


def test_an_unavailable_backend_names_its_own_extra():
    """The install hint names the backend's extra, not its family's (nutpie is not told [pymc])."""
    from harness.backends import capabilities, unavailable_reason

    assert capabilities("nutpie").extra == "nutpie" and capabilities("pymc-numpyro").extra == "pymc-numpyro"
    assert capabilities("blackjax").extra == "blackjax" and capabilities("cmdstanpy").extra == "cmdstanpy"
    assert "pip install 'ppl-harness[test]'" in unavailable_reason("fake_missing")


def test_adding_a_backend_takes_its_module_one_registry_line_and_its_extra(tmp_path):
    """The recipe of docs/contributing.md, followed in a copy of the package: a new module, one line in
    registry.py and an extra in pyproject.toml make a registered, default backend that satisfies the
    typed contract; nothing else is edited."""
    import shutil

    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "harness", copy / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "models", copy / "models", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    module = (ROOT / "examples" / "plugin_backend" / "ppl_harness_plugin_example.py").read_text()
    (copy / "harness" / "backends" / "example.py").write_text(
        module.replace('name="plugin_numpyro"', 'name="example"').replace('extra="numpyro"', 'extra="example"'))
    registry = copy / "harness" / "backends" / "registry.py"
    text = registry.read_text()
    text = text.replace("from harness.backends import blackjax,", "from harness.backends import blackjax, example,")
    registry.write_text(text.replace("    stan_cmdstanpy,\n)", "    stan_cmdstanpy,\n    example,\n)"))
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[project.optional-dependencies]\n",
                                                       '[project.optional-dependencies]\nexample = ["numpyro"]\n'))
    probe = """
import json, tomllib
from harness.backends import REGISTRY, default_backends, load_module
from harness.backends.base import Backend
module = load_module("example")
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
print(json.dumps({"registered": REGISTRY.get("example"), "default": "example" in default_backends(),
                  "contract": isinstance(module, Backend), "extra": module.CAPABILITIES.extra in extras}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PPL_HARNESS_EXTRA_BACKENDS"}
    env["PYTHONPATH"] = str(copy)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=copy, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts == {"registered": "harness.backends.example", "default": True, "contract": True, "extra": True}
