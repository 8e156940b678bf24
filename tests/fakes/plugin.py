"""A third-party backend module, registered only through PPL_HARNESS_EXTRA_BACKENDS (tests/test_registry.py).

It re-exports the NumPyro backend under its own name and declarations, like a plugin wrapping an
existing library would; every suite must pick it up with no edit anywhere else.
"""

from harness.backends.numpyro import (  # noqa: F401
    DEVICES,
    FAMILY,
    REQUIRES,
    compile,
    gpu_available,
    gradient_fn,
    log_density,
    prior_draws,
    sample,
    versions,
)

NAME = "plugin_numpyro"
MODEL_FILE = "numpyro_model.py"
PACKAGES = ("numpyro", "jax", "plugin-only-dist")
SBC_REPLICATES = 7


def worker_env(cores: int, device: str) -> dict[str, str]:
    return {"PLUGIN_THREADS": str(cores)}
