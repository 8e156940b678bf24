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


# ---------------------------------------------------------------- reading a Stan program (harness new-model)

_TYPES = ("real", "vector", "row_vector", "matrix", "simplex", "ordered", "positive_ordered",
          "cholesky_factor_corr", "int")
_DECLARATION = re.compile(
    r"^(?:array\s*\[(?P<adims>[^\]]*)\]\s*)?(?P<type>[a-z_]+)\s*(?:<(?P<cons>.*)>)?\s*"
    r"(?:\[(?P<tdims>[^\]]*)\])?\s*(?P<name>[A-Za-z]\w*)\s*(?:\[(?P<odims>[^\]]*)\])?\s*(?:=.*)?$", re.S)
UNKNOWN = "?"  # a support the reader cannot state (a bound that depends on another parameter)
_SUPPORT_OF_TYPE = {"simplex": "simplex", "ordered": "ordered", "positive_ordered": "positive_ordered",
                    "cholesky_factor_corr": "cholesky_corr"}


def strip_comments(code: str) -> str:
    """The program without ``//``, ``#`` and ``/* */`` comments (newlines kept, so line numbers hold)."""
    code = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), code, flags=re.S)
    return re.sub(r"(//|#).*", "", code)


def block(code: str, name: str) -> tuple[str, int] | None:
    """(text, first line number) of the program block ``name`` ("data", "parameters", "model", ...)."""
    prefix = r"(?<!transformed )" if name in ("data", "parameters") else ""
    match = re.search(rf"(?:^|\n)\s*{prefix}{re.escape(name)}\s*\{{", code)
    if match is None:
        return None
    depth, start = 1, match.end()
    for i in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return code[start:i], code[:start].count("\n") + 1
    return None


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, "[": 1, "<": 1, ")": -1, "]": -1, ">": -1}.get(ch, 0)
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p for p in (*parts, current) if p.strip()]


def _statements(text: str, first_line: int) -> list[tuple[str, int]]:
    """(statement, line number) of a declaration block."""
    out, line, current, start = [], first_line, "", first_line
    for ch in text:
        if ch == ";":
            if current.strip():
                out.append((" ".join(current.split()), start))
            current = ""
            continue
        if not current.strip():
            start = line
        if ch == "\n":
            line += 1
        current += ch
    return out


def _dim(expr: str, data: Data) -> int | str:
    """A dimension: an int literal, the name of an int data entry, or an expression of them (evaluated)."""
    expr = expr.strip()
    if re.fullmatch(r"\d+", expr):
        return int(expr)
    if re.fullmatch(r"[A-Za-z]\w*", expr) and expr in data:
        return expr
    if not re.fullmatch(r"[\w\s+\-*/()]+", expr):
        raise ValueError(f"dimension {expr!r} is not an int expression of the data")
    names = {k: int(v) for k, v in data.items() if isinstance(v, int | np.integer)}
    try:
        return int(eval(expr.replace("/", "//"), {"__builtins__": {}}, names))  # noqa: S307 - digits, names, + - * / ( )
    except Exception:
        raise ValueError(f"dimension {expr!r} cannot be computed from the data's ints") from None


def _bound(expr: str, data: Data) -> str:
    expr = expr.strip()
    if re.fullmatch(r"[A-Za-z]\w*", expr) and expr in data:
        return expr
    try:
        return f"{float(expr):g}"
    except ValueError:
        value = _dim(expr, data)
        return f"{value}" if isinstance(value, int) else value


def declaration(statement: str, data: Data,
                shapes: dict[str, tuple[int, ...]] | None = None) -> tuple[str, str, tuple[int | str, ...], str]:
    """(type, name, shape, support) of one declaration; ValueError when it is not one the harness reads.
    ``shapes``: {name: shape} from the built program, for dimensions the data's ints cannot give."""
    match = _DECLARATION.match(statement)
    if match is None or match.group("type") not in _TYPES:
        raise ValueError(f"cannot read the declaration {statement!r}")
    kind = match.group("type")
    dims = [d for key in ("adims", "odims", "tdims") if match.group(key) for d in _split_top(match.group(key), ",")]
    try:
        shape = tuple(_dim(d, data) for d in dims)
        if kind == "cholesky_factor_corr":
            shape = shape + shape[-1:]
    except ValueError:
        if not shapes or match.group("name") not in shapes:
            raise
        shape = tuple(shapes[match.group("name")])
    support = _SUPPORT_OF_TYPE.get(kind, "real")
    bounds = {}
    for part in _split_top(match.group("cons") or "", ","):
        key, _, value = part.partition("=")
        bounds[key.strip()] = value.strip()
    lower, upper = bounds.get("lower"), bounds.get("upper")
    if support == "real" and (lower is not None or upper is not None):
        try:
            lo = _bound(lower, data) if lower is not None else None
            hi = _bound(upper, data) if upper is not None else None
        except ValueError:  # a bound that depends on another parameter: declare this support by hand
            return kind, match.group("name"), shape, UNKNOWN
        if lo is not None and hi is not None:
            support = f"interval({lo}, {hi})"
        elif lo is not None:
            support = "positive" if lo == "0" else f"lower({lo})"
        else:
            support = f"upper({hi})"
    elif lower is not None or upper is not None:
        raise ValueError(f"bounds on a {kind} are not supported: {statement!r}")
    return kind, match.group("name"), shape, support


def read_program(code: str, data: Data, shapes: dict[str, tuple[int, ...]] | None = None) -> dict:
    """What ``harness new-model`` reads from a Stan program: {"params": [(name, shape, support)],
    "observed": [...], "rows": str | None, "replicated": [...], "data_shapes": {name: shape}}.

    ValueError names the line of a declaration it cannot read."""
    code = strip_comments(code)
    found = {}
    for name in ("data", "parameters", "model", "generated quantities"):
        found[name] = block(code, name)
    if found["parameters"] is None:
        raise ValueError("the program has no parameters block")
    params = []
    for statement, line in _statements(*found["parameters"]):
        try:
            kind, name, shape, support = declaration(statement, data, shapes)
        except ValueError as err:
            raise ValueError(f"line {line}: {err}") from None
        params.append((name, shape, support))
    data_shapes = {}
    for statement, _line in _statements(*found["data"]) if found["data"] else []:
        try:
            _, name, shape, _ = declaration(statement, data)
        except ValueError:
            continue  # a data declaration the reader does not need
        data_shapes[name] = shape
    model_text = found["model"][0] if found["model"] else ""
    candidates = re.findall(r"(?:^|[;{}\s])([A-Za-z]\w*)\s*(?:\[[^\]]*\])?\s*~", model_text)
    candidates += re.findall(r"_lp[dm]f\s*\(\s*([A-Za-z]\w*)\s*(?:\[[^\]]*\])?\s*\|", model_text)
    observed = list(dict.fromkeys(c for c in candidates if c in data_shapes))
    leading = {data_shapes[k][0] for k in observed if data_shapes[k]}
    rows = None
    if len(leading) == 1:
        first = leading.pop()
        rows = first if isinstance(first, str) else ""
    gq = found["generated quantities"][0] if found["generated quantities"] else ""
    replicated = [k for k in observed if re.search(rf"\b{re.escape(k)}_rep\b", gq)]
    return {"params": params, "observed": observed, "rows": rows, "replicated": replicated, "data_shapes": data_shapes}


def inspect_program(path: Path, data: Data, stanc: Path, shapes=None) -> object:
    """``inspect_model`` of the Stan backends: compile-check with ``stanc --info`` (its message on
    failure), then read the program (``read_program``) and check the data against its data block.
    ``shapes``: a function giving {parameter: shape} from the built program, for dimensions computed in
    transformed data."""
    import json
    import subprocess
    import tempfile

    from harness.backends.base import ImplementationError, ModelInfo

    path = Path(path)
    with tempfile.TemporaryDirectory() as scratch:  # stanc writes nothing with --info, but keep cwd clean
        proc = subprocess.run([str(stanc), "--info", str(path.resolve())], capture_output=True, text=True,
                              cwd=scratch, timeout=120)
    if proc.returncode != 0:
        raise ImplementationError(f"{path} does not compile; stanc says:\n{(proc.stderr or proc.stdout).strip()}")
    info = json.loads(proc.stdout)
    missing = [k for k in info.get("inputs", {}) if k not in data]
    if missing:
        raise ImplementationError(f"the data lack entries that {path}'s data block declares: {', '.join(missing)} "
                                  f"(data entries: {', '.join(sorted(data)) or 'none'})")
    for key, decl in info.get("inputs", {}).items():
        have = np.ndim(data[key])
        if int(decl.get("dimensions", 0)) != have:
            raise ImplementationError(f"data entry {key!r} has {have} dimension(s); {path} declares "
                                      f"{decl.get('dimensions')} ({decl.get('type')})")
    try:
        try:
            program = read_program(path.read_text(), data)
        except ValueError as err:
            if shapes is None or "dimension" not in str(err):
                raise
            program = read_program(path.read_text(), data, shapes())  # sizes from the built program
    except ValueError as err:
        raise ImplementationError(f"{path}: {err}") from None
    declared = {n for n, _, _ in program["params"]}
    if declared != set(info.get("parameters", {})):
        raise ImplementationError(f"{path}: parameters read {sorted(declared)} but stanc lists "
                                  f"{sorted(info.get('parameters', {}))}")
    notes = []
    if not program["observed"]:
        notes.append("no data entry is observed directly in the model block (`y ~ ...` or `target += "
                     "..._lpdf(y | ...)`)")
    for name, _, support in program["params"]:
        if support == UNKNOWN:
            notes.append(f"{name}: a bound that depends on another parameter; write its support in model.py by hand")
    replicated = bool(program["observed"]) and program["replicated"] == program["observed"]
    if not replicated:
        notes.append("posterior SBC needs a generated quantity <observed>_rep per observed entry ("
                     + ", ".join(f"{k}_rep" for k in program["observed"]) + ")")
    if program["rows"]:
        notes.append(f"posterior SBC treats the {program['rows']} observations as conditionally independent rows "
                     "given the parameters; delete rows= from model.py if they are not (time series, spatial)")
    return ModelInfo(family=FAMILY, params=tuple(program["params"]), observed=tuple(program["observed"]),
                     rows=program["rows"], simulator=("posterior",) if replicated else (), notes=tuple(notes))
