"""How rentals.json was made: one year of daily rentals, simulated once with a fixed seed.

    python examples/stan_negbin/make_data.py   # rewrites rentals.json next to this file
"""

import json
from pathlib import Path

import numpy as np

rng = np.random.default_rng(20261207)
n = 365
day = np.arange(n)
temp = np.round(np.sin(2 * np.pi * (day - 100) / 365) + rng.normal(0, 0.3, n), 3)
weekend = ((day % 7) >= 5).astype(int)
mu = np.exp(6.2 + 0.45 * temp - 0.25 * weekend)
phi = 12.0
rentals = rng.negative_binomial(phi, phi / (phi + mu))
Path(__file__).with_name("rentals.json").write_text(json.dumps(
    {"N": n, "temp": temp.tolist(), "weekend": weekend.tolist(), "rentals": rentals.astype(int).tolist()}))
