"""How scores.csv was made: 600 students in 20 schools, simulated once with a fixed seed.

    python examples/pymc_hierarchical/make_data.py   # rewrites scores.csv next to this file
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261206)
n_schools, n_students = 20, 600
school_effect = rng.normal(62.0, 6.0, size=n_schools)
school = rng.integers(0, n_schools, size=n_students)
hours = np.round(rng.gamma(4.0, 1.5, size=n_students), 1)
score = np.round(school_effect[school] + 1.8 * hours + rng.normal(0.0, 8.0, size=n_students), 1)
pd.DataFrame({"school_id": school, "hours": hours, "score": score}).to_csv(
    Path(__file__).with_name("scores.csv"), index=False)
