"""Which backend for a model: ``select`` the evidence, ``exclude`` by the rules, ``score`` with intervals,
``render`` as Markdown; ``core.recommend`` puts them together, ``command`` is ``harness recommend``."""
