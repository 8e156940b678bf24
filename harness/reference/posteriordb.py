"""Import posteriordb's reference draws as a model's reference posterior.

posteriordb (https://github.com/stan-dev/posteriordb) stores, for the posteriors that have one, 10
chains of 1,000 near-independent draws: ``posterior_database/reference_posteriors/draws/draws/<name>.json.zip``
holds a JSON list of chains, each ``{"theta[1]": [...], "L[2,1]": [...], ...}`` (1-based indices, one
key per scalar), and ``.../info/<name>.info.json`` how they were made (rstan, seeds, diagnostics).

``import_reference(model, posteriordb_dir)`` reads the draws of ``SPEC.posteriordb``, keeps the model's
free parameters (its derived quantities are computed from them by ``SPEC.derive``, as for every
backend), and returns a ``Reference`` with the same summary (mean, sd, MCSE of the mean over the 10
chains, quantiles) and thinned draws (all 10,000) as one made by ``harness reference``, with
provenance: the posteriordb commit, the posterior's name, the SHA-256 of the draws file and
posteriordb's own info.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np

from harness.errors import HarnessInputError

DRAWS_DIR = Path("posterior_database") / "reference_posteriors" / "draws"


class PosteriordbError(HarnessInputError):
    pass


def _commit(directory: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def read_chains(path: Path) -> list[dict[str, np.ndarray]]:
    """posteriordb's draws file as a list of chains {scalar name: (draws,)}."""
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.endswith(".json")]
        if len(members) != 1:
            raise PosteriordbError(f"{path} must hold one .json file, holds {archive.namelist()}")
        chains = json.loads(archive.read(members[0]))
    return [{k: np.asarray(v, dtype=np.float64) for k, v in chain.items()} for chain in chains]


def stack_param(chains: list[dict[str, np.ndarray]], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """(chain, draw, *shape) of one parameter from posteriordb's 1-based scalar names."""
    out = []
    for chain in chains:
        if shape == ():
            if name not in chain:
                raise PosteriordbError(f"posteriordb draws have no {name!r} (they have {sorted(chain)[:8]} ...)")
            out.append(chain[name])
            continue
        cols = []
        for idx in np.ndindex(*shape):
            key = f"{name}[{','.join(str(i + 1) for i in idx)}]"
            if key not in chain:
                raise PosteriordbError(f"posteriordb draws have no {key!r} for parameter {name!r} of shape {shape}")
            cols.append(chain[key])
        out.append(np.stack(cols, axis=-1).reshape((len(cols[0]),) + shape))
    return np.stack(out)


def import_reference(model: str, posteriordb_dir: Path):
    """The model's reference posterior from posteriordb's draws (see the module docstring)."""
    from harness.accuracy import flatten, summarise
    from harness.catalogue import get_model
    from harness.reference.core import Reference

    spec = get_model(model)
    if not spec.posteriordb:
        raise PosteriordbError(f"model {model!r} declares no posteriordb posterior (SPEC.posteriordb)")
    root = Path(posteriordb_dir)
    draws_file = root / DRAWS_DIR / "draws" / f"{spec.posteriordb}.json.zip"
    info_file = root / DRAWS_DIR / "info" / f"{spec.posteriordb}.info.json"
    if not draws_file.is_file():
        raise PosteriordbError(f"{draws_file} does not exist: posteriordb has no reference draws for "
                               f"{spec.posteriordb!r} (or {root} is not a posteriordb checkout)")
    chains = read_chains(draws_file)
    data = spec.data()
    draws = {p.name: stack_param(chains, p.name, p.resolve_shape(data)) for p in spec.params}
    reported = spec.with_derived(draws, data)
    n_chains, n_draws = next(iter(draws.values())).shape[:2]
    names, flat = flatten(reported)
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    diagnostics = info.get("diagnostics", {})
    facts = {
        "model": model, "size": spec.size_label(), "backend": "posteriordb",
        "source": {"posteriordb": spec.posteriordb, "commit": _commit(root), "draws_file": str(DRAWS_DIR / "draws" /
                                                                                              draws_file.name),
                   "sha256": hashlib.sha256(draws_file.read_bytes()).hexdigest(),
                   "inference": info.get("inference"), "versions": info.get("versions", {}).get("rstan_version"),
                   "added_by": info.get("added_by"), "added_date": info.get("added_date")},
        "settings": {"chains": n_chains, "draws": n_draws},
        "ess_bulk_min": float(np.min(diagnostics.get("effective_sample_size_bulk", [np.nan]))),
        "rhat_max": float(np.max(diagnostics.get("r_hat", [np.nan]))),
        "divergences": int(np.sum(diagnostics.get("divergent_transitions", [0]))),
        "ebfmi": diagnostics.get("expected_fraction_of_missing_information", "unavailable"),
        "thinning": {"factor": 1, "candidates": n_chains * n_draws, "kept": n_chains * n_draws},
        "summary_from": "posteriordb's 10 x 1,000 thinned draws (mean, sd, quantiles); mcse_mean by ArviZ",
        "criteria": "posteriordb's (checks_made): " + json.dumps(info.get("checks_made", {})),
    }
    thinned = {k: np.asarray(v).reshape((n_chains * n_draws,) + np.asarray(v).shape[2:]) for k, v in reported.items()}
    del names, flat
    return Reference(model, spec.size_label(), "posteriordb", True, [], summarise(reported), thinned, facts)
