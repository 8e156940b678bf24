"""A 100-dimensional Gaussian with condition number 1e4: x ~ N(0, Sigma), Sigma = Q diag(s^2) Q^T.

s is log-spaced from 0.1 to 10 (so the eigenvalues s^2 of Sigma run from 1e-2 to 1e2: condition number
1e4), and Q is a fixed random rotation (Haar-distributed, drawn from the data seed), so no coordinate
axis is aligned with an eigenvector and a diagonal mass matrix cannot undo the conditioning. Every
backend reads the same Cholesky factor L of Sigma from the data dict (``L``; ``Q`` and ``s`` are kept
next to it). No data are observed: the posterior is the prior, known exactly (``exact_posterior``).
SBC does not apply: nothing is observed.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from harness.spec import ModelSpec, Param

D = 100
CONDITION = 1e4  # of Sigma: (s_max / s_min)^2


def random_rotation(rng, d):
    """A Haar-distributed orthogonal matrix (QR of a Gaussian matrix, signs fixed by R's diagonal),
    turned into a rotation (determinant +1) by flipping its first column where needed."""
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def make_data(rng):
    s = 10.0 ** np.linspace(-1.0, 1.0, D)  # s^2 from 1e-2 to 1e2
    q = random_rotation(rng, D)
    sigma = (q * s**2) @ q.T
    sigma = 0.5 * (sigma + sigma.T)
    return {"D": D, "L": np.linalg.cholesky(sigma), "Q": q, "s": s}


def sample_prior(rng, data):
    return {"x": data["Q"] @ (data["s"] * rng.normal(size=data["D"]))}


def simulate(rng, params, data):
    return dict(data)  # nothing is observed


def exact_posterior(rng, data, n):
    return {"x": (rng.normal(size=(n, data["D"])) * data["s"]) @ data["Q"].T}


def log_prior(params, data):
    L = data["L"]
    z = linalg.solve_triangular(L, np.asarray(params["x"], dtype=np.float64), lower=True)
    return float(-0.5 * z @ z - np.sum(np.log(np.diag(L))) - 0.5 * len(z) * np.log(2.0 * np.pi))


def log_likelihood(params, data):
    return 0.0


SPEC = ModelSpec(
    name="ill_conditioned_gaussian",
    description="100-dimensional Gaussian, condition number 1e4, randomly rotated; no data: exact posterior",
    params=(Param("x", ("D",)),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    exact_posterior=exact_posterior,
    observed=(),
    tags=("synthetic",),
    size_class="small",
)
