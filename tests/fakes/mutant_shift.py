"""Mutant sampler 'shift' (see tests/fakes/mutant_sampler.py)."""

from tests.fakes.mutant_sampler import capabilities, compile, log_density, make, potential, versions, worker_env  # noqa: F401

CAPABILITIES = capabilities("mutant_shift")
sample = make("shift")
