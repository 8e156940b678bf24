"""``python -m harness list``: the catalogue (searchable by class) and the backends, and whether each runs here."""

from __future__ import annotations

from harness.backends import availability, default_backends, load_module, optional_hook
from harness.catalogue import families_present, get_model, model_folders
from harness.cli_options import add_catalogue_argument, apply_catalogues
from harness.spec import FAMILY_FILES, SIZE_RULE, TAGS
from harness.tables import markdown_table

EXAMPLES = """examples:
  python -m harness list
  python -m harness list --tags gp,ode          models of either class
  python -m harness list --catalogue my_models  with an external catalogue
"""


def configure(parser) -> None:
    parser.add_argument("--tags", help=f"only models of these classes, comma-separated; classes: {', '.join(TAGS)}")
    parser.add_argument("--gpu", action="store_true", help="also check whether each GPU-capable backend sees a GPU")
    parser.add_argument("--models-only", action="store_true", help="list the models only")
    add_catalogue_argument(parser)
    parser.epilog = EXAMPLES


def sbc_text(spec) -> str:
    """'prior, posterior' (the SBC methods that apply), or why none does."""
    from harness.sbc.simulation import METHODS, not_applicable

    reasons = {m: not_applicable(spec, m) for m in METHODS}
    usable = [m for m, why in reasons.items() if why is None]
    return ", ".join(usable) if usable else str(reasons["prior"])


def model_rows(names: list[str]) -> list[list[str]]:
    rows = []
    for name in names:
        spec = get_model(name)
        present = families_present(name)
        families = ", ".join(f if f in present else f"({f}: not implemented)" for f in FAMILY_FILES)
        data = spec.data()
        size = ", ".join(f"{k}={v}" for k, v in spec.size_defaults.items())
        rows.append([name, ", ".join(spec.tags) or "-", spec.size_class, f"{spec.n_unconstrained(data):,}",
                     f"{spec.n_observed(data):,}", families, sbc_text(spec),
                     spec.posteriordb or "-", size or "fixed", spec.description])
    return rows


def command(args) -> int:
    from harness.catalogue import select

    apply_catalogues(args)
    tags = [t for t in (args.tags or "").split(",") if t.strip()]
    names = select(tags)
    external = [n for n in names if model_folders()[n].parent.name != "models"]
    title = f"Models ({len(names)}" + (f", classes {', '.join(tags)}" if tags else "") + \
        (f"; {len(external)} from external catalogues" if external else "") + ")"
    print(f"## {title}\n")
    print(markdown_table(model_rows(names), ["model", "classes", "size class", "parameters", "observations",
                                             "families", "SBC", "posteriordb", "size", "description"]))
    print(f"\nSize class: {SIZE_RULE} (d: unconstrained parameters, n: observed values).")
    if args.models_only:
        return 0
    print("\n## Backends\n")
    defaults = default_backends()
    rows = []
    for name, why in availability().items():
        module = load_module(name)
        caps = module.CAPABILITIES
        state = "available" if why is None else f"unavailable: {why}"
        describe = optional_hook(module, "describe")
        if why is None and describe is not None:
            state += f" ({describe()})"
        gpu_available = optional_hook(module, "gpu_available")
        if args.gpu and why is None and gpu_available is not None:
            ok, detail = gpu_available()
            state += f"; GPU: {'yes' if ok else 'no'} ({detail})"
        rows.append([name, caps.family + ("" if name in defaults else ", not default"), "/".join(caps.devices),
                     str(caps.sbc_replicates), f"ppl-harness[{caps.extra}]", state])
    print(markdown_table(rows, ["backend", "family", "devices", "SBC replicates", "extra", "status"]))
    return 0
