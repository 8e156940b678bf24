"""``python -m harness compare BASELINE NEW``: the CI regression gate (see ``core`` and ``stats``)."""
