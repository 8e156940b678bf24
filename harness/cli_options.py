"""Command-line options shared by several commands: name lists, the sampler settings, catalogues."""

from __future__ import annotations

from harness.settings import SamplerSettings


def parse_names(text: str | None, valid: list[str], default: list[str]) -> list[str]:
    """'a,b' -> ['a', 'b']; 'all' -> every valid name; nothing -> the default (names are checked later)."""
    if not text:
        return list(default)
    if text == "all":
        return list(valid)
    return [n.strip() for n in text.split(",") if n.strip()]


def add_sampler_arguments(parser, chains=4, warmup=1000, draws=1000) -> None:
    """The sampler options shared by ``run``, ``sbc`` and ``choose``: every backend gets the same values."""
    parser.add_argument("--chains", type=int, default=chains, help="chains per fit")
    parser.add_argument("--warmup", type=int, default=warmup, help="warm-up (adaptation) iterations per chain")
    parser.add_argument("--draws", type=int, default=draws, help="kept iterations per chain")
    parser.add_argument("--target-accept", type=float, default=0.8,
                        help="step-size adaptation target (Stan's adapt_delta)")
    parser.add_argument("--max-treedepth", type=int, default=10, help="NUTS maximum tree depth")
    parser.add_argument("--device", default="cpu", help="cpu or gpu (GPU cells of CPU-only backends are skipped)")
    parser.add_argument("--cores", type=int, default=1, help="core budget per cell (threads, parallel chains)")
    parser.add_argument("--seed", type=int, default=0, help="root seed; every other seed derives from it")


def sampler_settings(args) -> SamplerSettings:
    return SamplerSettings(
        chains=args.chains, warmup=args.warmup, draws=args.draws, target_accept=args.target_accept,
        max_treedepth=args.max_treedepth, device=args.device, cores=args.cores,
    )


def add_catalogue_argument(parser) -> None:
    """``--catalogue DIR`` (repeatable): model folders outside ``models/`` (also ``$PPL_HARNESS_CATALOGUE``)."""
    parser.add_argument("--catalogue", action="append", default=[], metavar="DIR",
                        help="a folder of model folders (or one model folder) that follow the model contract; "
                             "repeatable; also read from $PPL_HARNESS_CATALOGUE (a path list)")


def apply_catalogues(args) -> None:
    """Make every ``--catalogue DIR`` of ``args`` part of the catalogue (for this process and its children)."""
    from harness.catalogue import add_catalogue

    for directory in getattr(args, "catalogue", None) or []:
        add_catalogue(directory)


def add_model_selection(parser, default_help: str = "all") -> None:
    """``--models`` and ``--tags``, and the catalogues they choose from."""
    parser.add_argument("--models", help=f"comma-separated model names, or 'all' (default: {default_help})")
    parser.add_argument("--tags", help="only models of these classes, comma-separated (e.g. gp,ode); "
                                       "see `harness list` for the classes")
    add_catalogue_argument(parser)


def selected_models(args, default: list[str] | None = None) -> list[str]:
    """The models ``--models``/``--tags`` choose (after ``apply_catalogues``)."""
    from harness.catalogue import model_names, select

    apply_catalogues(args)
    names = parse_names(getattr(args, "models", None), model_names(), default if default is not None else model_names())
    tags = [t for t in (getattr(args, "tags", None) or "").split(",") if t.strip()]
    return select(tags, names) if tags else names
