"""An example third-party backend, registered without editing the harness.

A plugin is one module that follows the backend contract (``harness/backends/base.py``). Register it
by putting its folder on ``PYTHONPATH`` and naming it in ``PPL_HARNESS_EXTRA_BACKENDS``::

    PYTHONPATH=examples/plugin_backend \\
    PPL_HARNESS_EXTRA_BACKENDS=plugin_numpyro=ppl_harness_plugin_example \\
    python -m harness list

Every command and test suite then offers it like a built-in backend (``tests/test_registry.py``
checks that the conformance, equivalence, prior and gradient suites collect it). This one re-exports
the NumPyro backend under its own name and declarations, like a plugin wrapping an existing library
would; a real plugin implements ``compile``/``sample``/``log_density``/``potential`` for its library.
"""

from harness.backends.base import Capabilities
from harness.backends.numpyro import (  # noqa: F401 (the contract's functions, re-exported)
    compile,
    gpu_available,
    gradient_fn,
    log_density,
    potential,
    prior_draws,
    sample,
    versions,
)

CAPABILITIES = Capabilities(name="plugin_numpyro", family="numpyro", requires=("numpyro", "jax"),
                            packages=("numpyro", "jax", "plugin-only-dist"), extra="numpyro", devices=("cpu", "gpu"),
                            sbc_replicates=7)


def worker_env(cores: int, device: str) -> dict[str, str]:
    """Thread caps of the plugin's library, set in a cell's process before any import."""
    return {"PLUGIN_THREADS": str(cores)}
