"""A third-party backend module, registered only through PPL_HARNESS_EXTRA_BACKENDS (tests/test_registry.py).

It re-exports the NumPyro backend under its own name and declarations, like a plugin wrapping an
existing library would; every suite must pick it up with no edit anywhere else.
"""

from harness.backends.base import Capabilities
from harness.backends.numpyro import (  # noqa: F401
    compile,
    gpu_available,
    gradient_fn,
    log_density,
    prior_draws,
    sample,
    versions,
)

CAPABILITIES = Capabilities(name="plugin_numpyro", family="numpyro", requires=("numpyro", "jax"),
                            packages=("numpyro", "jax", "plugin-only-dist"), extra="numpyro", devices=("cpu", "gpu"),
                            sbc_replicates=7)


def worker_env(cores: int, device: str) -> dict[str, str]:
    return {"PLUGIN_THREADS": str(cores)}
