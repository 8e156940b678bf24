"""A benchmark run: models x sizes x backends x repeats, each cell in its own process.

* ``plan``     the cells, their seeds, and the plan stored in ``manifest.json`` (what ``--resume`` checks)
* ``runner``   runs the cells as Dask tasks, stores each record as it finishes, then the equivalence check
* ``worker``   one cell in its own process: compile, sample, diagnose, score (``python -m harness.run.worker``)
* ``command``  ``python -m harness run``
"""
