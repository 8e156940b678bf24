"""Hierarchical 2PL IRT in PyMC.

L_Omega: PyMC (5.x) has no distribution whose value is the Cholesky factor of a correlation matrix, so
``lkj_corr_cholesky`` builds one with ``pm.CustomDist``: the log density is Stan's lkj_corr_cholesky_lpdf
up to a constant, the transform is Stan's canonical-partial-correlation map (``StanCholeskyCorr``), and
prior draws come from the onion method (as NumPyro's LKJCholesky). The bivariate normal of
(xi1[i], xi2[i]) is written as its exact factorisation xi1 ~ N(mu[0], tau[0]),
xi2 | xi1 ~ N(mu[1] + tau[1] L[1,0] z, tau[1] L[1,1]), z = (xi1 - mu[0]) / tau[0].
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.transforms import Transform


class StanCholeskyCorr(Transform):
    """Stan's transform of a (K, K) Cholesky factor of a correlation matrix: K (K - 1) / 2 reals u,
    z = tanh(u) the canonical partial correlations, row by row (rows 1..K-1, columns 0..i-1):
    L[i, 0] = z, L[i, j] = z sqrt(1 - sum_{k<j} L[i, k]^2), L[i, i] = sqrt(1 - sum_{k<i} L[i, k]^2)."""

    name = "cholcorr"  # no underscore: PyMC strips "_<name>__" from value names by splitting on "_"
    ndim_supp = 2

    def __init__(self, K):
        self.K = int(K)

    def forward(self, value, *inputs):
        out = []
        for i in range(1, self.K):
            ss = 0.0
            for j in range(i):
                out.append(pt.arctanh(value[..., i, j] / pt.sqrt(1.0 - ss)))
                ss = ss + value[..., i, j] ** 2
        return pt.stack(out, axis=-1)

    def _rows(self, value):
        """(rows of L as lists of scalars, log |det dL/du|)."""
        z = pt.tanh(value)
        logdet = pt.sum(pt.log1p(-(z ** 2)), axis=-1)
        zero, one = pt.zeros_like(value[..., 0]), pt.ones_like(value[..., 0])
        rows = [[one] + [zero] * (self.K - 1)]
        n = 0
        for i in range(1, self.K):
            row, ss = [], zero
            for j in range(i):
                if j == 0:
                    x = z[..., n]
                else:
                    logdet = logdet + 0.5 * pt.log1p(-ss)
                    x = z[..., n] * pt.sqrt(1.0 - ss)
                row.append(x)
                ss = ss + x ** 2
                n += 1
            row.append(pt.sqrt(1.0 - ss))
            rows.append(row + [zero] * (self.K - 1 - i))
        return rows, logdet

    def backward(self, value, *inputs):
        rows, _ = self._rows(value)
        return pt.stack([pt.stack(r, axis=-1) for r in rows], axis=-2)

    def log_jac_det(self, value, *inputs):
        return self._rows(value)[1]


def onion_cholesky(rng, K, eta, size=()):
    """Cholesky factors (*size, K, K) of LKJ(eta) correlation matrices by the onion method (NumPyro's
    LKJCholesky): row i's off-diagonal part is sqrt(y) times a uniform direction, y ~ Beta(i/2, eta + (K-1-i)/2)."""
    size = tuple(np.atleast_1d(size).astype(int)) if size is not None else ()
    L = np.zeros(size + (K, K))
    L[..., 0, 0] = 1.0
    for i in range(1, K):
        y = rng.beta(i / 2.0, eta + (K - 1 - i) / 2.0, size=size)
        u = rng.normal(size=size + (i,))
        L[..., i, :i] = np.sqrt(y)[..., None] * u / np.linalg.norm(u, axis=-1, keepdims=True)
        L[..., i, i] = np.sqrt(1.0 - y)
    return L


def lkj_corr_cholesky(name, K, eta):
    """A (K, K) Cholesky factor of an LKJ(eta) correlation matrix: Stan's lkj_corr_cholesky up to a
    constant, on Stan's transform."""
    K = int(K)

    def logp(value, eta, template):
        log_diag = pt.log(pt.diagonal(value, axis1=-2, axis2=-1))
        exponents = K - np.arange(1, K + 1) + 2.0 * eta - 2.0  # row k (1-based): K - k + 2 eta - 2
        return pt.sum(exponents * log_diag, axis=-1)

    def random(eta, template, rng=None, size=None):
        return onion_cholesky(rng, K, float(eta), () if size is None else size)

    def support_point(rv, size, eta, template):
        return pt.eye(K)

    # ``template`` (K zeros) only carries K into the signature: PyMC infers the value's shape from it
    return pm.CustomDist(name, eta, np.zeros(K), logp=logp, random=random, support_point=support_point,
                         signature="(),(n)->(n,n)", transform=StanCholeskyCorr(K))


def build(data) -> pm.Model:
    with pm.Model() as model:
        ii = pm.Data("ii_data", data["ii"])
        jj = pm.Data("jj_data", data["jj"])
        y = pm.Data("y_data", data["y"])
        theta = pm.Normal("theta", 0.0, 1.0, shape=data["J"])
        mu = pm.Normal("mu", 0.0, np.array([1.0, 5.0]), shape=2)
        tau = pm.Exponential("tau", 0.1, shape=2)
        L = lkj_corr_cholesky("L_Omega", 2, 4.0)
        xi1 = pm.Normal("xi1", mu[0], tau[0], shape=data["I"])
        z = (xi1 - mu[0]) / tau[0]
        xi2 = pm.Normal("xi2", mu[1] + tau[1] * L[1, 0] * z, tau[1] * L[1, 1], shape=data["I"])
        pm.Bernoulli("y", logit_p=pt.exp(xi1)[ii] * (theta[jj] - xi2[ii]), observed=y)
    return model
