"""``python -m harness new-model NAME --from FILE [--data DATA] --out DIR``: a model folder from one file.

The family comes from the file: a ``.stan`` program, or a Python file that imports PyMC (and defines
``build(data) -> pm.Model``) or NumPyro (and defines ``model(data)``). An installed backend of that
family reads the implementation (``inspect_model``, ``harness.backends.base.SupportsInspect``): the
free parameters with their shapes and supports, the observed data entries, whether it can simulate.
The command writes ``DIR/NAME/`` (the implementation under its contract name, the data file,
``model.py``, ``README.md``), checks the declaration, then runs the equivalence checks once on every
installed backend of the family (``python -m harness.equivalence``) and prints them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.errors import HarnessInputError
from harness.spec import FAMILY_FILES, TAGS

EXAMPLES = """examples:
  python -m harness new-model school_scores --from examples/pymc_hierarchical/school_scores.py \\
      --data examples/pymc_hierarchical/scores.csv --out my_models
  python -m harness new-model bike_rentals --from examples/stan_negbin/bike_rentals.stan \\
      --data examples/stan_negbin/rentals.json --out my_models
  then: python -m harness choose my_models/school_scores --budget 10
"""
DATA_SUFFIXES = (".json.zip", ".json", ".csv", ".npz")


def configure(parser) -> None:
    parser.add_argument("name", help="the model's name (lower case, digits, underscores): its folder and catalogue key")
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE",
                        help="the implementation: a .stan program, a PyMC file (build(data) -> pm.Model) or a "
                             "NumPyro file (model(data))")
    parser.add_argument("--data", type=Path, metavar="DATA",
                        help="the data file (.json, .json.zip, .csv: one entry per column, .npz); "
                             "default: none (the model reads no data)")
    parser.add_argument("--out", type=Path, default=Path("."),
                        help="the catalogue directory the model folder DIR/NAME is written into")
    parser.add_argument("--observed", help="comma-separated data entries the model observes (default: read from "
                                           "the implementation)")
    parser.add_argument("--description", help="one line for tables (default: the implementation's first docstring "
                                              "or comment line)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing DIR/NAME")
    parser.add_argument("--no-check", action="store_true", help="write the folder without running the equivalence checks")
    parser.epilog = EXAMPLES


def family_of(path: Path) -> str:
    """The family of an implementation file, from its suffix and imports; an error lists what is accepted."""
    if path.suffix == ".stan":
        return "stan"
    if path.suffix == ".py":
        text = path.read_text()
        if re.search(r"^\s*(import|from)\s+numpyro\b", text, re.M):
            return "numpyro"
        if re.search(r"^\s*(import|from)\s+pymc\b", text, re.M):
            return "pymc"
    raise HarnessInputError(f"--from {path}: not an implementation the harness reads; give a .stan program, a PyMC "
                            "file (imports pymc, defines build(data)) or a NumPyro file (imports numpyro, defines model(data))")


def _description(path: Path) -> str:
    for line in path.read_text().splitlines():
        text = line.strip().strip('"').strip("'").lstrip("/#").strip()
        if text and not text.startswith(("import", "from", "data", "functions")):
            return text[:120].replace('"', "'")
    return f"{path.name}"


def _data_suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in DATA_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise HarnessInputError(f"--data {path}: unknown format; valid: {', '.join(DATA_SUFFIXES)}")


def _param_text(name: str, shape: tuple, support: str) -> str:
    args = [f'"{name}"']
    if shape:
        args.append("(" + ", ".join(f'"{d}"' if isinstance(d, str) else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")")
    if support != "real":
        args.append(f'support="{support}"')
    return f"Param({', '.join(args)})"


def write_folder(args, info, family: str, data: dict) -> Path:
    """DIR/NAME with the implementation, the data, model.py and README.md."""
    from harness.spec import size_class_of
    from harness.templates import render

    folder = args.out / args.name
    if folder.exists() and not args.force:
        raise HarnessInputError(f"{folder} exists; choose another --out or NAME, or pass --force")
    folder.mkdir(parents=True, exist_ok=True)
    implementation = FAMILY_FILES[family]
    shutil.copyfile(args.source, folder / implementation)
    data_file = ""
    if args.data is not None:
        data_file = "data" + _data_suffix(args.data)
        shutil.copyfile(args.data, folder / data_file)
    from harness import supports

    n_unconstrained = sum(supports.parse(s).unconstrained_size(tuple(int(data[d]) if isinstance(d, str) else d
                                                                     for d in shape))
                          for _, shape, s in info.params)
    n_observed = sum(int(__import__("numpy").size(data[k])) for k in info.observed)
    text = render("model.py.j2", model_name=args.name, description=args.description or _description(args.source),
                  date=dt.date.today().isoformat(), source=args.source.name,
                  data_source=args.data.name if args.data else "", family=family, implementation=implementation,
                  tags=", ".join(TAGS), params=[_param_text(*p) for p in info.params], data_file=data_file,
                  observed=list(info.observed), simulator=bool(info.simulator),
                  simulator_methods=" and ".join(info.simulator), rows=info.rows,
                  size_class=size_class_of(n_unconstrained, n_observed))
    if not data_file:
        text = text.replace('    data_file="",\n', "    make_data=lambda rng: {},\n")
    (folder / "model.py").write_text(text)
    (folder / "README.md").write_text(
        f"# {args.name}\n\nScaffolded by `python -m harness new-model {args.name} --from {args.source.name}"
        + (f" --data {args.data.name}" if args.data else "") + "`.\n\n"
        f"- `{implementation}`: a copy of `{args.source}`\n"
        + (f"- `{data_file}`: a copy of `{args.data}`\n" if args.data else "")
        + "\nState here where the model and its data come from, and their licences.\n")
    return folder


def command(args) -> int:
    from harness.backends import family_hook
    from harness.backends.base import ImplementationError
    from harness.spec import read_data_file

    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.name):
        raise HarnessInputError(f"model name {args.name!r}: use lower-case letters, digits and underscores, "
                                "starting with a letter")
    if not args.source.is_file():
        raise HarnessInputError(f"--from {args.source}: no such file")
    family = family_of(args.source)
    data = read_data_file(args.data) if args.data is not None else {}
    data = {k: (int(v) if hasattr(v, "ndim") and v.ndim == 0 and v.dtype.kind in "iu" else v) for k, v in data.items()}
    found = family_hook(family, "inspect_model")
    if found is None:
        raise HarnessInputError(f"no installed backend reads {family} models; install one (python -m harness list "
                                "shows the backends and their extras)")
    backend, inspect = found
    try:
        info = inspect(args.source, data)
    except ImplementationError as err:
        raise HarnessInputError(str(err)) from None
    if args.observed:
        observed = tuple(o.strip() for o in args.observed.split(",") if o.strip())
        unknown = [o for o in observed if o not in data]
        if unknown:
            raise HarnessInputError(f"--observed {args.observed}: {unknown} are no data entries; entries: "
                                    f"{', '.join(sorted(data))}")
        import dataclasses

        info = dataclasses.replace(info, observed=observed)
    unknown_support = [name for name, _, support in info.params if support == "?"]
    if unknown_support:
        raise HarnessInputError(f"{args.source}: cannot state the support of {', '.join(unknown_support)}: "
                                + "; ".join(info.notes) + "; write model.py by hand (models/README.md)")
    if not info.observed:
        raise HarnessInputError(f"{args.source}: found no observed data entry; name them with --observed "
                                f"(data entries: {', '.join(sorted(data)) or 'none'})"
                                + (f" ({'; '.join(info.notes)})" if info.notes else ""))
    folder = write_folder(args, info, family, data)
    print(f"wrote {folder} ({family} implementation read by backend {backend}):")
    for name, shape, support in info.params:
        print(f"  parameter {name}: shape {tuple(shape)}, support {support}")
    print(f"  observed: {', '.join(info.observed)}; simulator: {', '.join(info.simulator) or 'none'} SBC")
    for note in info.notes:
        print(f"  note: {note}")
    return 0 if args.no_check else check(folder, family)


def check(folder: Path, family: str) -> int:
    """The declaration loads, then the equivalence checks on every installed backend of the family."""
    from harness.backends import REGISTRY, capabilities, unavailable_reason
    from harness.catalogue import add_catalogue, get_model

    add_catalogue(folder)
    spec = get_model(folder.name)
    data = spec.data()
    print(f"declaration ok: {len(spec.params)} parameter(s), {spec.n_unconstrained(data)} unconstrained, "
          f"{spec.n_observed(data)} observed value(s), size class {spec.size_class}")
    backends = [n for n in REGISTRY if capabilities(n).family == family and not unavailable_reason(n)]
    command = [sys.executable, "-m", "harness.equivalence", "--models", spec.name, "--backends", ",".join(backends),
               "--catalogue", str(folder)]
    print(f"equivalence checks: {' '.join(command[1:])}", flush=True)
    code = subprocess.call(command)
    if code != 0:
        print(f"error: the equivalence checks of {spec.name} failed (table above); fix the implementation or the "
              f"declaration in {folder / 'model.py'}", file=sys.stderr)
        return 1
    print(f"\n{spec.name} is ready: python -m harness choose {folder}")
    return 0
