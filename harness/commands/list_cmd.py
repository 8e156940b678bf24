"""``python -m harness list``: every model and backend, and whether each backend runs here."""

from __future__ import annotations

from harness.backends import availability, default_backends, load_module
from harness.catalogue import get_model, model_names


def configure(parser) -> None:
    parser.add_argument("--gpu", action="store_true", help="also check whether each GPU-capable backend sees a GPU")


def command(args) -> int:
    print("Models:")
    for name in model_names():
        spec = get_model(name)
        size = ", ".join(f"{k}={v}" for k, v in spec.size_defaults.items())
        params = ", ".join(p.name + (f"[{','.join(map(str, p.shape))}]" if p.shape else "") for p in spec.params)
        print(f"  {name:28s} {spec.description}")
        print(f"  {'':28s} params: {params}" + (f"; size: {size}" if size else ""))
    print("\nBackends:")
    defaults = default_backends()
    for name, why in availability().items():
        module = load_module(name)
        kind = f"{module.FAMILY} model" + ("" if name in defaults else ", not default")
        state = "available" if why is None else f"unavailable: {why}"
        devices = "/".join(module.DEVICES)
        line = f"  {name:14s} {kind:24s} devices {devices:8s} {state}"
        if why is None and hasattr(module, "describe"):
            line += f" ({module.describe()})"
        if args.gpu and why is None and "gpu" in module.DEVICES:
            ok, detail = module.gpu_available()
            line += f"; GPU: {'yes' if ok else 'no'} ({detail})"
        print(line)
    return 0
