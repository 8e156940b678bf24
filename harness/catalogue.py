"""The model catalogue: one folder per model, discovered by name.

Folders come from the built-in ``models/`` and from external catalogues: every ``--catalogue DIR``
of a command (repeatable) and every directory in ``$PPL_HARNESS_CATALOGUE`` (a path list, like
``PATH``). A catalogue directory holds model folders; a directory that is itself a model folder
(it has a ``model.py``) adds that one model. ``add_catalogue`` puts a directory into the variable, so
every process the run starts (cells, SBC workers of an embedded cluster) sees the same catalogue.

Two folders that declare one name are an error naming both; so is a folder whose ``SPEC.name``
differs from its folder name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import models as _models_pkg
from harness.errors import HarnessInputError
from harness.spec import FAMILY_FILES, TAGS, ModelSpec, SpecError

MODELS_DIR = Path(_models_pkg.__file__).resolve().parent
CATALOGUE_ENV = "PPL_HARNESS_CATALOGUE"


class UnknownModelError(HarnessInputError):
    pass


class CatalogueError(HarnessInputError):
    """A catalogue directory or model folder that cannot be used (missing, clashing, broken)."""


def external_dirs() -> list[Path]:
    """The external catalogue directories, in ``$PPL_HARNESS_CATALOGUE`` order."""
    raw = os.environ.get(CATALOGUE_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def add_catalogue(directory: str | Path) -> Path:
    """Add an external catalogue directory for this process and every process it starts."""
    path = Path(directory).expanduser().resolve()
    if not path.is_dir():
        raise CatalogueError(f"--catalogue {directory}: no such directory")
    if not (path / "model.py").is_file() and not any((p / "model.py").is_file() for p in path.iterdir() if p.is_dir()):
        raise CatalogueError(f"--catalogue {directory}: holds no model folder (a folder with a model.py); "
                             "see models/README.md for the contract")
    dirs = external_dirs()
    if path not in dirs:
        os.environ[CATALOGUE_ENV] = os.pathsep.join(str(p) for p in [*dirs, path])
        _folders.cache_clear()
        get_model.cache_clear()
    return path


def _scan(directory: Path) -> list[Path]:
    if (directory / "model.py").is_file():
        return [directory]
    return sorted(p for p in directory.iterdir() if p.is_dir() and (p / "model.py").is_file())


@cache
def _folders(env: str) -> dict[str, Path]:
    found: dict[str, Path] = {p.name: p for p in _scan(MODELS_DIR)}
    for directory in external_dirs():
        if not directory.is_dir():
            raise CatalogueError(f"{CATALOGUE_ENV} names {directory}, which is not a directory")
        for folder in _scan(directory):
            if folder.name in found and found[folder.name] != folder:
                raise CatalogueError(f"model name {folder.name!r} is declared twice: {found[folder.name]} and "
                                     f"{folder}; rename one folder (and its SPEC.name)")
            found[folder.name] = folder
    return found


def model_folders() -> dict[str, Path]:
    """{model name: folder} over the built-in and external catalogues."""
    return _folders(os.environ.get(CATALOGUE_ENV, ""))


def model_names() -> list[str]:
    """Every catalogue model, sorted."""
    return sorted(model_folders())


def builtin(name: str) -> bool:
    return model_folders().get(name, Path()).parent == MODELS_DIR


def _module_name(folder: Path, stem: str) -> str:
    if folder.parent == MODELS_DIR:
        return f"models.{folder.name}.{stem}"
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    return f"ppl_harness_external_{digest}.{folder.name}.{stem}"


def _import(folder: Path, stem: str) -> ModuleType:
    """``<folder>/<stem>.py`` as a module (the package ``models`` for built-in models)."""
    qualname = _module_name(folder, stem)
    if qualname in sys.modules:
        return sys.modules[qualname]
    if folder.parent == MODELS_DIR:
        return importlib.import_module(qualname)
    return _exec_file(qualname, folder / f"{stem}.py")


def import_file(path: Path) -> ModuleType:
    """Import a Python file that is not part of any catalogue yet (``harness new-model --from``)."""
    path = Path(path).resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return _exec_file(f"ppl_harness_file_{digest}_{path.stem}", path)


def _exec_file(qualname: str, path: Path) -> ModuleType:
    """Run ``path`` as module ``qualname`` (registered in ``sys.modules``; removed again if it raises)."""
    spec = importlib.util.spec_from_file_location(qualname, path)
    if spec is None or spec.loader is None:
        raise CatalogueError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualname] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[qualname]
        raise
    return module


@cache
def get_model(name: str) -> ModelSpec:
    """The declaration ``<folder>/model.py:SPEC`` with its folder; a clear error lists valid names."""
    folders = model_folders()
    if name not in folders:
        raise UnknownModelError(f"unknown model {name!r}; valid models: {', '.join(model_names())}")
    folder = folders[name]
    try:
        module = _import(folder, "model")
    except Exception as err:
        raise CatalogueError(f"model {name!r}: {folder / 'model.py'} does not import: {type(err).__name__}: "
                             f"{err}") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ModelSpec):
        raise CatalogueError(f"model {name!r}: {folder / 'model.py'} defines no SPEC = ModelSpec(...)")
    if spec.name != name:
        raise CatalogueError(f"model {name!r}: {folder / 'model.py'} declares SPEC.name={spec.name!r}; "
                             "it must equal the folder name")
    check_declaration(spec)
    return dataclasses.replace(spec, folder=folder)


def check_declaration(spec: ModelSpec) -> None:
    """Declared tags, size class, prior kind, supports, not-implemented families and known deviations are valid."""
    from harness import spec as spec_module
    from harness import supports

    unknown = [t for t in spec.tags if t not in TAGS]
    if unknown:
        raise SpecError(f"model {spec.name!r}: unknown tag(s) {unknown}; valid tags: {', '.join(TAGS)}")
    if spec.size_class not in spec_module.SIZE_CLASSES:
        raise SpecError(f"model {spec.name!r}: size_class {spec.size_class!r}; valid: "
                        f"{', '.join(spec_module.SIZE_CLASSES)}")
    if spec.prior not in spec_module.PRIORS:
        raise SpecError(f"model {spec.name!r}: prior {spec.prior!r}; valid: {', '.join(spec_module.PRIORS)}")
    bad = [f for f in spec.not_implemented if f not in FAMILY_FILES]
    if bad:
        raise SpecError(f"model {spec.name!r}: not_implemented names unknown families {bad}; valid: "
                        f"{', '.join(FAMILY_FILES)}")
    if spec.simulator is not None and spec.simulator not in FAMILY_FILES:
        raise SpecError(f"model {spec.name!r}: simulator {spec.simulator!r} is not a family; valid: "
                        f"{', '.join(FAMILY_FILES)}")
    if spec.numerical_rtol and not spec.numerical_rtol_reason.strip():
        raise SpecError(f"model {spec.name!r}: numerical_rtol needs its reason (numerical_rtol_reason)")
    check_known_deviation(spec)
    if (spec.log_prior is None) != (spec.log_likelihood is None):
        raise SpecError(f"model {spec.name!r}: declare both log_prior and log_likelihood, or neither")
    for p in (*spec.params, *spec.derived):
        try:
            supports.parse(p.support)
        except supports.SupportError as err:
            raise SpecError(f"model {spec.name!r}: {err}") from None


def reference_dir(name: str, root: Path | None = None) -> Path:
    """Where the reference posterior of ``name`` lives: ``<root>/<name>`` when a root is given (or
    ``$PPL_HARNESS_REFERENCES`` is set), else ``results/references/<name>`` for a built-in model and
    ``<model folder>/reference`` for a model of an external catalogue (it travels with its folder)."""
    from harness.paths import reference_root

    if root is not None or os.environ.get("PPL_HARNESS_REFERENCES"):
        return Path(root or reference_root()) / name
    folder = model_folders().get(name)
    if folder is not None and folder.parent != MODELS_DIR:
        return folder / "reference"
    return reference_root() / name


def models_option(name: str) -> str:
    """``--models NAME`` plus ``--catalogue FOLDER`` for a model of an external catalogue: the options that
    name the model in a command a message suggests."""
    folder = model_folders().get(name)
    if folder is not None and folder.parent != MODELS_DIR:
        return f"--models {name} --catalogue {folder}"
    return f"--models {name}"


def check_known_deviation(spec: ModelSpec) -> None:
    """``known_deviation`` is ``{family: (per_observation, reason)}``: a known family, a positive finite
    bound per observed value, a non-empty reason, and observed values for the bound to count."""
    import math

    for family, declared in spec.known_deviation.items():
        where = f"model {spec.name!r}: known_deviation[{family!r}]"
        if family not in FAMILY_FILES:
            raise SpecError(f"{where}: unknown family; valid: {', '.join(FAMILY_FILES)}")
        if not isinstance(declared, tuple) or len(declared) != 2:
            raise SpecError(f"{where} must be (per_observation, reason), is {declared!r}")
        per, reason = declared
        if isinstance(per, bool) or not isinstance(per, int | float) or not math.isfinite(per) or per <= 0:
            raise SpecError(f"{where}: the bound per observed value must be a positive number, is {per!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise SpecError(f"{where} needs its reason (the library bug and its upstream reference)")
    if spec.known_deviation and not spec.observed:
        raise SpecError(f"model {spec.name!r}: known_deviation is per observed value; declare observed")


def families_present(name: str) -> dict[str, str]:
    """{family: file} of the implementations the model's folder holds."""
    folder = model_folders()[name] if name in model_folders() else None
    if folder is None:
        get_model(name)  # the clear error
        raise AssertionError
    return {family: f for family, f in FAMILY_FILES.items() if (folder / f).is_file()}


def missing_family_reason(name: str, family: str) -> str | None:
    """None when the model brings ``family``, else the reason shown in every table."""
    if family in families_present(name):
        return None
    declared = get_model(name).not_implemented.get(family)
    return f"not implemented: {declared}" if declared else f"not implemented: the model brings no {FAMILY_FILES.get(family, family)}"


def implementation(name: str, family: str) -> ModuleType:
    """Import ``<folder>/<family>_model.py`` (``family`` as a backend module declares it)."""
    get_model(name)
    folder = model_folders()[name]
    if not (folder / f"{family}_model.py").is_file():
        raise CatalogueError(f"model {name!r}: {missing_family_reason(name, family)}")
    return _import(folder, f"{family}_model")


def model_file(name: str, filename: str) -> Path:
    """Path of ``<folder>/<filename>`` (e.g. a backend's non-Python ``MODEL_FILE``)."""
    get_model(name)
    return model_folders()[name] / filename


def stan_file(name: str) -> Path:
    """Path of the model's ``model.stan``."""
    return model_file(name, "model.stan")


def validate_models(models: list[str]) -> None:
    """Models exist (errors list the valid choices), each once."""
    if not models:
        raise UnknownModelError("no models selected; valid models: " + ", ".join(model_names()))
    twice = sorted({n for n in models if models.count(n) > 1})
    if twice:
        raise HarnessInputError(f"models listed more than once: {', '.join(twice)}")
    for name in models:
        get_model(name)


def select(tags: list[str] | None = None, names: list[str] | None = None) -> list[str]:
    """Model names that carry any of ``tags`` (all models without tags), among ``names`` when given;
    an unknown tag is an error listing the valid ones."""
    tags = [t.strip() for t in (tags or []) if t.strip()]
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        raise HarnessInputError(f"unknown tag(s) {unknown}; valid tags: {', '.join(TAGS)}")
    pool = names if names is not None else model_names()
    return [m for m in pool if not tags or any(t in get_model(m).tags for t in tags)]
