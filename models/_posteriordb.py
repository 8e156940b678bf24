"""What the models ported from posteriordb share: where they come from, and reading their data files.

posteriordb (https://github.com/stan-dev/posteriordb, BSD 3-Clause licence, Copyright (c) 2011-2024
Stan Developers and their Assignees) at commit ``COMMIT``. Each ported model's folder keeps
posteriordb's Stan program (``model.stan``) and data file (``data.json.zip``) as they are, and says so
in its README.
"""

from __future__ import annotations

import numpy as np

COMMIT = "28f8d3d6e975315f42aa274a8399f21e07a43b30"
LICENCE = "BSD 3-Clause (posteriordb, Copyright (c) 2011-2024 Stan Developers and their Assignees)"


def arrays(raw: dict, ints: tuple[str, ...] = (), one_based: tuple[str, ...] = ()) -> dict:
    """posteriordb's JSON data as the catalogue's data dict: lists -> float64 arrays, ``ints`` (and
    ``one_based`` index arrays, shifted to 0-based) -> int64 arrays, scalars kept (ints as Python int)."""
    out = {}
    for key, value in raw.items():
        if key in one_based:
            out[key] = np.asarray(value, dtype=np.int64) - 1
        elif key in ints:
            out[key] = np.asarray(value, dtype=np.int64)
        elif isinstance(value, (list, np.ndarray)):
            out[key] = np.asarray(value, dtype=np.float64)
        elif isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))):
            out[key] = int(value)
        else:
            out[key] = float(value)
    return out


def one_based(data: dict, *keys: str) -> dict:
    """``data`` for a Stan data block: the 0-based index arrays ``keys`` made 1-based again."""
    return {**data, **{k: np.asarray(data[k], dtype=np.int64) + 1 for k in keys}}
