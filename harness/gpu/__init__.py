"""``python -m harness gpu-check``: one command that measures what a GPU machine gives each backend.

Parts (each a results directory under ``--out``):

- ``gpu-tests/``: the GPU-marked test suite (pytest in a subprocess): pass/fail/skip counts and its tail;
- ``crossover/``: ``logistic_regression`` at several N for every GPU-capable backend, on the GPU and on
  the CPU of the same machine under the same core budget (runner cells: provenance, status, isolation);
- ``chains/``: vectorised chains (1 .. 1024) for backends whose ``CAPABILITIES.vectorized_chains`` is true;
- ``sbc-throughput/``: replicates per minute of a backend's ``sample_batch`` on simulated data sets.

Backends are chosen by capability (``harness.gpu.select``), never by name. ``harness.gpu.summary``
turns the stored records into CSV tables and ``gpu-check.md``.
"""
