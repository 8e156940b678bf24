"""Deliberately wrong copies of catalogue models, for ``tests/test_equivalence_mutants.py``.

``install(tmp_path, monkeypatch, mutant)`` copies ``models/<base>`` to ``tmp_path/mutant_models/<name>``
(``SPEC.name`` rewritten), applies one text replacement to one implementation file, and makes the copy
a catalogue model for the duration of the test as an external catalogue (``PPL_HARNESS_CATALOGUE``,
what ``--catalogue DIR`` sets). The repository's ``models/`` folder is never written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import harness.catalogue as catalogue


@dataclass(frozen=True)
class Mutant:
    name: str  # catalogue key of the copy
    base: str  # catalogue model copied
    file: str  # implementation file mutated
    old: str  # exact text replaced (must occur once)
    new: str
    backend: str  # a backend that reads the mutated file
    caught_by: tuple[str, ...]  # checks that must flag the (reference, backend) pair
    header: str = ""  # text inserted after the file's imports (helpers the mutation needs)
    declared: bool = False  # the declaration check (harness.equivalence.declaration) must flag it too


def install(tmp_path: Path, monkeypatch, *mutants: Mutant) -> None:
    root = tmp_path / "mutant_models"
    root.mkdir(exist_ok=True)
    for m in mutants:
        folder = root / m.name
        shutil.copytree(catalogue.MODELS_DIR / m.base, folder, ignore=shutil.ignore_patterns("__pycache__"))
        spec_file = folder / "model.py"
        text = spec_file.read_text()
        assert text.count(f'name="{m.base}"') == 1, m
        spec_file.write_text(text.replace(f'name="{m.base}"', f'name="{m.name}"'))
        target = folder / m.file
        text = target.read_text()
        assert text.count(m.old) == 1, f"{m.name}: {m.old!r} not found once in {m.base}/{m.file}"
        text = text.replace(m.old, m.new)
        if m.header:
            lines = text.splitlines(keepends=True)
            last_import = max(i for i, line in enumerate(lines) if line.startswith(("import ", "from ")))
            text = "".join(lines[: last_import + 1]) + m.header + "".join(lines[last_import + 1:])
        target.write_text(text)
    monkeypatch.setenv(catalogue.CATALOGUE_ENV, str(root))


LOG_NO_JACOBIAN = '''
import pytensor.tensor as pt
from pymc.logprob.transforms import LogTransform


class LogNoJacobian(LogTransform):
    """A hand-written log transform that forgets the log-Jacobian."""

    def log_jac_det(self, value, *inputs):
        return pt.zeros_like(value)

'''

# one fast mutant per kind (PyMC and NumPyro files: no C++ build)
FAST = (
    Mutant("mut_prior_scale", "normal_mean", "numpyro_model.py", "dist.Normal(0.0, 10.0)", "dist.Normal(0.0, 10.01)",
           "numpyro", ("potential",)),
    Mutant("mut_support_bound", "eight_schools_uniform", "numpyro_model.py", "dist.Uniform(0.0, 100.0)",
           "dist.Uniform(0.0, 1000.0)", "numpyro", ("support", "transform", "potential"), declared=True),
    Mutant("mut_lik_scale", "normal_mean", "pymc_model.py", 'pm.Normal("x", mu, 1.0,', 'pm.Normal("x", mu, 1.001,',
           "pymc", ("density", "potential")),
    Mutant("mut_term_missing", "eight_schools_noncentered", "pymc_model.py",
           'pm.Normal("theta_trans", 0.0, 1.0, shape=data["J"])', 'pm.Flat("theta_trans", shape=data["J"])',
           "pymc", ("density", "potential")),
    Mutant("mut_jacobian_missing", "eight_schools_noncentered", "pymc_model.py", 'pm.HalfCauchy("tau", 5.0)',
           'pm.HalfCauchy("tau", 5.0, default_transform=LogNoJacobian())', "pymc", ("potential",),
           header=LOG_NO_JACOBIAN),
)

# a changed bound in a Stan program: a new program to build (~40-90 s)
STAN = Mutant("mut_stan_bound", "eight_schools_uniform", "model.stan", "real<lower=0, upper=100> tau;",
              "real<lower=0, upper=1000> tau;", "stan", ("transform", "potential"))
