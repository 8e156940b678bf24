"""Out-of-support values refused everywhere, for the support check."""

from __future__ import annotations

import contextlib
import warnings


@contextlib.contextmanager
def strict_supports(module=None):
    """Out-of-support warnings become errors, and a backend whose library validates nothing by default
    switches validation on in its optional ``strict_support()`` context manager (PyMC returns -inf;
    Pyro/torch and Stan raise)."""
    from harness.backends import optional_hook

    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("error", message=".*[Oo]ut-of-support.*")
        hook = optional_hook(module, "strict_support") if module is not None else None
        if hook is not None:
            stack.enter_context(hook())
        yield
