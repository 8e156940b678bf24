"""What the two Stan backends (``stan``: PyStan/httpstan, ``cmdstanpy``: CmdStan) share.

Both read the catalogue's ``model.stan`` files with the same data; nothing here imports a Stan library.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from pathlib import Path

import numpy as np

from harness.paths import cache_root
from harness.spec import Data, ModelSpec

FAMILY = "stan"
SBC_REPLICATES = 100

# Stan's per-chain timing, in a CmdStan CSV comment block or in httpstan's logger messages
_ELAPSED = re.compile(r"Elapsed Time:[\s#]*([0-9.eE+-]+) seconds \(Warm-up\)[\s#]*([0-9.eE+-]+) seconds \(Sampling\)")


def harness_cache() -> Path:
    """``$PPL_HARNESS_CACHE`` (default ``~/.cache/ppl-harness``)."""
    return cache_root()


def cache_dir() -> Path:
    """The Stan backends' part of the harness cache."""
    return harness_cache() / "stan"


def stan_program(spec: ModelSpec) -> Path:
    """The model's ``model.stan``."""
    from harness.catalogue import stan_file

    return stan_file(spec.name)


def to_stan_data(spec: ModelSpec, data: Data) -> dict:
    """The model's Stan data block values as JSON-ready Python objects."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in spec.stan_data(data).items()}


def to_stan_point(point: dict) -> dict:
    """Parameter values {name: array} as JSON-ready Python objects."""
    return {k: np.asarray(v, dtype=np.float64).tolist() for k, v in point.items()}


def elapsed_seconds(text: str) -> tuple[float, float]:
    """(warm-up s, sampling s) from Stan's "Elapsed Time" report (CmdStan CSV comments or httpstan logger text)."""
    match = _ELAPSED.search(" ".join(text.split()))
    if match is None:
        raise RuntimeError("Stan output has no 'Elapsed Time' line")
    return float(match.group(1)), float(match.group(2))


def worker_env(cores: int, device: str) -> dict[str, str]:
    """Stan's own thread pool (TBB, used by reduce_sum/map_rect in threaded builds) capped at ``cores``."""
    return {"STAN_NUM_THREADS": str(cores)}


def take_lock(handle, exclusive: bool) -> bool:
    """flock ``handle`` (waiting if need be); True when another holder made it wait."""
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        fcntl.flock(handle, mode)
        return True


@contextlib.contextmanager
def file_lock(path: Path, exclusive: bool, blocking: bool = True):
    """flock on ``path`` (created if missing). Yields True when held; with ``blocking`` off, False
    (and nothing held) when another holder has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        if blocking:
            take_lock(handle, exclusive)
        else:
            try:
                fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- potential (equivalence hook)


def stan_order(spec: ModelSpec, data: Data, native: list[tuple[str, int]]) -> np.ndarray:
    """Index map from Stan's unconstrained vector to the harness layout (``harness.equivalence.points``:
    ``spec.params`` order, each parameter's unconstrained block, elementwise blocks in C order):
    ``harness_u = stan_u[index]``. ``native`` is [(name, unconstrained size)] in the order of the
    program's parameters block. Stan stores matrices (and arrays of vectors) column-major, so an
    elementwise block of a (R, C) parameter is transposed; other supports' blocks (simplex, ordered,
    Cholesky factors) are vectors in Stan's own order, which the canonical transforms follow."""
    offsets, i = {}, 0
    for name, size in native:
        offsets[name] = (i, size)
        i += size
    index: list[int] = []
    for p in spec.params:
        shape = p.resolve_shape(data)
        size = p.space.unconstrained_size(shape)
        if p.name not in offsets or offsets[p.name][1] != size:
            raise ValueError(f"Stan parameter {p.name!r} with {size} unconstrained values not found in the "
                             f"program's parameters {native}")
        start = offsets[p.name][0]
        if p.space.elementwise and len(shape) > 1:
            column_major = np.arange(size).reshape(shape[::-1]).T  # C-order position -> Stan position
            index.extend((start + column_major.ravel()).tolist())
        else:
            index.extend(range(start, start + size))
    if len(index) != i:
        raise ValueError(f"the Stan program has parameters that the spec does not declare: {native}")
    return np.asarray(index, dtype=int)


def spec_unconstrain(spec: ModelSpec, data: Data, point: dict) -> np.ndarray:
    """The declared supports' canonical (Stan) unconstraining maps, harness layout: used where a driver
    cannot ask the program (CmdStan)."""
    from harness.unconstrained import unconstrain

    return unconstrain(spec, data, point)
