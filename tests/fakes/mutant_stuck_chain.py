"""Mutant sampler 'stuck_chain' (see tests/fakes/mutant_sampler.py)."""

from tests.fakes.mutant_sampler import capabilities, compile, log_density, make, potential, versions, worker_env  # noqa: F401

CAPABILITIES = capabilities("mutant_stuck_chain")
sample = make("stuck_chain")
