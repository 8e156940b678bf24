"""The ppl-harness model catalogue: one folder per model; see models/README.md for the contract."""
