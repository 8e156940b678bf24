"""Mutant sampler 'half_variance' (see tests/fakes/mutant_sampler.py)."""

from tests.fakes.mutant_sampler import capabilities, compile, log_density, make, potential, versions, worker_env  # noqa: F401

CAPABILITIES = capabilities("mutant_half_variance")
sample = make("half_variance")
