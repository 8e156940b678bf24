"""``python -m harness list``: every model and backend, and whether each backend runs here."""

from __future__ import annotations

from harness.backends import availability, default_backends, load_module, optional_hook
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
        caps = module.CAPABILITIES
        kind = f"{caps.family} model" + ("" if name in defaults else ", not default")
        state = "available" if why is None else f"unavailable: {why}"
        devices = "/".join(caps.devices)
        line = f"  {name:14s} {kind:24s} devices {devices:8s} {state}"
        describe = optional_hook(module, "describe")
        if why is None and describe is not None:
            line += f" ({describe()})"
        gpu_available = optional_hook(module, "gpu_available")
        if args.gpu and why is None and gpu_available is not None:
            ok, detail = gpu_available()
            line += f"; GPU: {'yes' if ok else 'no'} ({detail})"
        print(line)
    return 0
