"""The model catalogue: one folder per model under ``models/``, discovered by name."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from types import ModuleType

import models as _models_pkg
from harness.errors import HarnessInputError
from harness.spec import ModelSpec

MODELS_DIR = Path(_models_pkg.__file__).resolve().parent

def model_names() -> list[str]:
    """Every catalogue model, sorted."""
    return sorted(p.name for p in MODELS_DIR.iterdir() if (p / "model.py").is_file())


class UnknownModelError(HarnessInputError):
    pass


@cache
def get_model(name: str) -> ModelSpec:
    """The declaration ``models/<name>/model.py:SPEC``; a clear error lists valid names."""
    if name not in model_names():
        raise UnknownModelError(f"unknown model {name!r}; valid models: {', '.join(model_names())}")
    spec = importlib.import_module(f"models.{name}.model").SPEC
    if spec.name != name:
        raise RuntimeError(f"models/{name}/model.py declares SPEC.name={spec.name!r}; it must equal the folder name")
    return spec


def implementation(name: str, family: str) -> ModuleType:
    """Import ``models/<name>/<family>_model.py`` (``family`` as a backend module declares it)."""
    get_model(name)
    return importlib.import_module(f"models.{name}.{family}_model")


def model_file(name: str, filename: str) -> Path:
    """Path of ``models/<name>/<filename>`` (e.g. a backend's non-Python ``MODEL_FILE``)."""
    get_model(name)
    return MODELS_DIR / name / filename


def stan_file(name: str) -> Path:
    """Path of ``models/<name>/model.stan``."""
    return model_file(name, "model.stan")
