"""Are the parallel implementations of a model the same model? Six checks per model, backend and size.

* ``points``      the unconstrained layout, the canonical transforms, start points, steps and support probes
* ``potentials``  a backend's potential at shared constrained points, transform-agnostic (W(x))
* ``checks``      the six checks and their tolerances (density, support, transform, potential,
                  gradient, fd_gradient)
* ``tables``      every (model, size, check, pair) row, and one row per model x pair
* ``__main__``    ``python -m harness.equivalence`` (the runner's equivalence step)

The design, the tolerances and their power are in ``docs/equivalence.md``.
"""

from harness.equivalence.checks import CHECKS, COLUMNS, LONG_COLUMNS, REFERENCE, compare
from harness.equivalence.tables import backend_verdicts, check, check_long, other_size, summarise

__all__ = ["CHECKS", "COLUMNS", "LONG_COLUMNS", "REFERENCE", "backend_verdicts", "check", "check_long", "compare",
           "other_size", "summarise"]
