"""Parameter supports and their canonical (Stan) transforms, in numpy.

A catalogue parameter declares its support (``harness.spec.Param.support``) as text or as a
``Support`` object:

==================  ===============================================  ========================
text                set                                              unconstrained size
==================  ===============================================  ========================
``real``            every real number                                n
``positive``        x > 0                                            n
``lower(a)``        x > a                                            n
``upper(b)``        x < b                                            n
``interval(a, b)``  a < x < b                                        n
``ordered``         x[..., 0] < x[..., 1] < ... (last axis)          n
``positive_ordered`` 0 < x[..., 0] < x[..., 1] < ... (last axis)     n
``simplex``         x >= 0, sum over the last axis 1                 n - n / K
``cholesky_corr``   Cholesky factor of a correlation matrix (K, K)   K (K - 1) / 2
==================  ===============================================  ========================

Bounds ``a``, ``b`` are numbers, names of data entries (``interval(mu_lower, mu_upper)``: the data
loader computes them) or, with ``Interval(lower, upper)``, functions ``(params, data) -> value`` of
the other parameters (GARCH's ``beta1 < 1 - alpha1``).

Every support has Stan's transform between the constrained value ``x`` and the unconstrained vector
``u`` (identity; ``a + exp(u)``; ``b - exp(u)``; ``a + (b - a) logit^-1(u)``; ordered: ``x0 = u0``,
``x_k = x_{k-1} + exp(u_k)``; positive ordered: the same from ``exp(u0)``; simplex: Stan's stick
breaking, ``z_k = logit^-1(u_k - log(K - k - 1))`` of what is left; Cholesky correlation factor:
Stan's canonical partial correlations, ``z = tanh(u)`` row by row), with ``log |det dx/du|``. The
equivalence check (``harness.equivalence``) uses them to make points on the support and to know the
Jacobian a sampler on this transform must add; a library on another transform is checked against
its own transform's Jacobian, found by finite differences.

"Free coordinates" are the coordinates a density is taken with respect to: every element, except
the last of each simplex (it is one minus the others) and the diagonal and upper triangle of a
Cholesky factor (fixed by the rest).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Bound = float | str | Callable[[dict, dict], Any]


class SupportError(ValueError):
    """A support text that names no known support."""


@dataclass(frozen=True)
class Support:
    """Base class: the set a parameter lives on. ``kind`` names it in tables."""

    kind: str = "real"
    elementwise = True

    def describe(self) -> str:
        return self.kind

    def unconstrained_size(self, shape: tuple[int, ...]) -> int:
        return int(np.prod(shape, dtype=int))

    def free_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """Boolean (shape): which elements are free coordinates."""
        return np.ones(shape, dtype=bool)

    def complete(self, x: np.ndarray) -> np.ndarray:
        """The value with its dependent elements recomputed from the free ones (identity here)."""
        return x

    def bounds(self, params: dict, data: dict) -> tuple[np.ndarray | float, np.ndarray | float]:
        return -np.inf, np.inf

    def constrain(self, u: np.ndarray, shape: tuple[int, ...], params: dict, data: dict) -> tuple[np.ndarray, float]:
        """(x of ``shape``, log |det dx/du|) from the flat unconstrained block ``u``."""
        return np.asarray(u, dtype=np.float64).reshape(shape), 0.0

    def unconstrain(self, x: np.ndarray, params: dict, data: dict) -> np.ndarray:
        """The flat unconstrained block of ``x``."""
        return np.asarray(x, dtype=np.float64).ravel()

    def inside(self, x: np.ndarray, params: dict, data: dict) -> bool:
        return bool(np.all(np.isfinite(x)))


def _value(bound: Bound, params: dict, data: dict) -> np.ndarray | float:
    if callable(bound):
        return np.asarray(bound(params, data), dtype=np.float64)
    if isinstance(bound, str):
        return np.asarray(data[bound], dtype=np.float64)
    return float(bound)


def _text(bound: Bound) -> str:
    if callable(bound):
        return getattr(bound, "__doc__", None) or "f(params)"
    return str(bound) if isinstance(bound, str) else f"{float(bound):g}"


@dataclass(frozen=True)
class Interval(Support):
    """lower < x < upper, elementwise; either bound may be infinite (``positive`` is ``Interval(0, inf)``)."""

    kind: str = "interval"
    lower: Bound = -math.inf
    upper: Bound = math.inf

    def describe(self) -> str:
        lo, hi = self.lower, self.upper
        if not callable(lo) and not isinstance(lo, str) and not callable(hi) and not isinstance(hi, str):
            if float(lo) == 0.0 and math.isinf(float(hi)):
                return "positive"
            if math.isinf(float(lo)) and math.isinf(float(hi)):
                return "real"
        if not callable(hi) and not isinstance(hi, str) and math.isinf(float(hi)):
            return f"lower({_text(lo)})"
        if not callable(lo) and not isinstance(lo, str) and math.isinf(float(lo)):
            return f"upper({_text(hi)})"
        return f"interval({_text(lo)}, {_text(hi)})"

    def bounds(self, params: dict, data: dict):
        return _value(self.lower, params, data), _value(self.upper, params, data)

    def constrain(self, u, shape, params, data):
        with np.errstate(divide="ignore", invalid="ignore"):  # a bound that another parameter moved past
            return self._constrain(u, shape, params, data)

    def _constrain(self, u, shape, params, data):
        u = np.asarray(u, dtype=np.float64).reshape(shape)
        a, b = self.bounds(params, data)
        lo, hi = np.isfinite(a), np.isfinite(b)
        if np.all(lo) and np.all(hi):
            s = 1.0 / (1.0 + np.exp(-u))
            x = a + (b - a) * s
            logdet = np.sum(np.log(b - a) - np.logaddexp(0.0, -u) - np.logaddexp(0.0, u))
        elif np.all(lo):
            x, logdet = a + np.exp(u), np.sum(u)
        elif np.all(hi):
            x, logdet = b - np.exp(u), np.sum(u)
        else:
            x, logdet = u, 0.0
        return np.broadcast_to(x, shape).astype(np.float64), float(logdet)

    def unconstrain(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        a, b = self.bounds(params, data)
        lo, hi = np.isfinite(a), np.isfinite(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            if np.all(lo) and np.all(hi):
                u = np.log(x - a) - np.log(b - x)
            elif np.all(lo):
                u = np.log(x - a)
            elif np.all(hi):
                u = np.log(b - x)
            else:
                u = x
        return np.broadcast_to(u, x.shape).ravel()

    def inside(self, x, params, data):
        a, b = self.bounds(params, data)
        x = np.asarray(x, dtype=np.float64)
        return bool(np.all(np.isfinite(x)) and np.all(x > a) and np.all(x < b))


@dataclass(frozen=True)
class Ordered(Support):
    """Increasing along the last axis; ``positive`` also requires the first element above 0."""

    kind: str = "ordered"
    positive: bool = False
    elementwise = False

    def describe(self) -> str:
        return "positive_ordered" if self.positive else "ordered"

    def constrain(self, u, shape, params, data):
        u = np.asarray(u, dtype=np.float64).reshape(shape)
        steps = np.exp(u)
        first = steps[..., :1] if self.positive else u[..., :1]
        x = np.cumsum(np.concatenate([first, steps[..., 1:]], axis=-1), axis=-1)
        logdet = np.sum(u) if self.positive else np.sum(u[..., 1:])
        return x, float(logdet)

    def unconstrain(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.log(x[..., :1]) if self.positive else x[..., :1]
            return np.concatenate([first, np.log(np.diff(x, axis=-1))], axis=-1).ravel()

    def inside(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        ok = np.all(np.isfinite(x)) and np.all(np.diff(x, axis=-1) > 0)
        return bool(ok and (not self.positive or np.all(x[..., 0] > 0)))


@dataclass(frozen=True)
class Simplex(Support):
    """Non-negative, summing to one along the last axis; Stan's stick-breaking transform."""

    kind: str = "simplex"
    elementwise = False

    def unconstrained_size(self, shape):
        return int(np.prod(shape[:-1], dtype=int)) * (shape[-1] - 1)

    def free_mask(self, shape):
        mask = np.ones(shape, dtype=bool)
        mask[..., -1] = False
        return mask

    def complete(self, x):
        x = np.array(x, dtype=np.float64)
        x[..., -1] = 1.0 - np.sum(x[..., :-1], axis=-1)
        return x

    def constrain(self, u, shape, params, data):
        k = shape[-1]
        u = np.asarray(u, dtype=np.float64).reshape(shape[:-1] + (k - 1,))
        x = np.zeros(shape)
        left = np.ones(shape[:-1])
        logdet = 0.0
        for i in range(k - 1):
            adj = u[..., i] - np.log(k - i - 1)
            z = 1.0 / (1.0 + np.exp(-adj))
            x[..., i] = left * z
            logdet += float(np.sum(np.log(left) - np.logaddexp(0.0, -adj) - np.logaddexp(0.0, adj)))
            left = left - x[..., i]
        x[..., -1] = left
        return x, logdet

    def unconstrain(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        k = x.shape[-1]
        left = 1.0 - np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x[..., :-2], axis=-1)], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = x[..., :-1] / left
            u = np.log(z) - np.log1p(-z) + np.log(k - 1 - np.arange(k - 1))
        return u.ravel()

    def inside(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        return bool(np.all(np.isfinite(x)) and np.all(x > 0) and np.allclose(x.sum(axis=-1), 1.0, atol=1e-10))


@dataclass(frozen=True)
class CholeskyCorr(Support):
    """Lower-triangular (K, K) with positive diagonal and rows of unit length; Stan's CPC transform."""

    kind: str = "cholesky_corr"
    elementwise = False

    def unconstrained_size(self, shape):
        k = shape[-1]
        return k * (k - 1) // 2

    def free_mask(self, shape):
        return np.tril(np.ones(shape, dtype=bool), -1)

    def complete(self, x):
        x = np.tril(np.array(x, dtype=np.float64), -1)
        k = x.shape[-1]
        for i in range(k):
            x[i, i] = np.sqrt(1.0 - np.sum(x[i, :i] ** 2))
        return x

    def constrain(self, u, shape, params, data):
        k = shape[-1]
        z = np.tanh(np.asarray(u, dtype=np.float64).ravel())
        logdet = float(np.sum(np.log1p(-z * z)))
        x = np.zeros((k, k))
        if k:
            x[0, 0] = 1.0
        n = 0
        for i in range(1, k):
            x[i, 0] = z[n]
            n += 1
            ss = x[i, 0] ** 2
            for j in range(1, i):
                logdet += 0.5 * float(np.log1p(-ss))
                x[i, j] = z[n] * np.sqrt(1.0 - ss)
                n += 1
                ss += x[i, j] ** 2
            x[i, i] = np.sqrt(1.0 - ss)
        return x, logdet

    def unconstrain(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        k = x.shape[-1]
        out = []
        for i in range(1, k):
            ss = 0.0
            for j in range(i):
                with np.errstate(divide="ignore", invalid="ignore"):
                    out.append(np.arctanh(x[i, j] / np.sqrt(1.0 - ss)))
                ss += x[i, j] ** 2
        return np.asarray(out, dtype=np.float64)

    def inside(self, x, params, data):
        x = np.asarray(x, dtype=np.float64)
        return bool(np.all(np.isfinite(x)) and np.allclose(np.triu(x, 1), 0.0) and np.all(np.diag(x) > 0)
                    and np.allclose(np.sum(x * x, axis=1), 1.0, atol=1e-10))


REAL = Interval()
POSITIVE = Interval(lower=0.0)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"


def _bound(text: str) -> Bound:
    text = text.strip()
    if re.fullmatch(_NUMBER, text):
        return float(text)
    if re.fullmatch(r"[A-Za-z_]\w*", text):
        return text  # a data entry
    raise SupportError(f"bound {text!r} is neither a number nor a data entry name")


SUPPORT_TEXTS = ("real", "positive", "lower(a)", "upper(b)", "interval(a, b)", "ordered", "positive_ordered",
                 "simplex", "cholesky_corr")


def parse(support: str | Support) -> Support:
    """The ``Support`` of a declaration (text as in the table above, or a ``Support`` already)."""
    if isinstance(support, Support):
        return support
    text = str(support).strip()
    simple: dict[str, Support] = {"real": REAL, "positive": POSITIVE, "ordered": Ordered(),
                                  "positive_ordered": Ordered(positive=True), "simplex": Simplex(),
                                  "cholesky_corr": CholeskyCorr()}
    if text in simple:
        return simple[text]
    match = re.fullmatch(r"(interval|lower|upper)\((.*)\)", text)
    if match:
        kind, args = match.group(1), [a for a in match.group(2).split(",")]
        if kind == "interval" and len(args) == 2:
            return Interval(lower=_bound(args[0]), upper=_bound(args[1]))
        if kind == "lower" and len(args) == 1:
            return Interval(lower=_bound(args[0]))
        if kind == "upper" and len(args) == 1:
            return Interval(upper=_bound(args[0]))
    raise SupportError(f"unknown support {support!r}; valid supports: {', '.join(SUPPORT_TEXTS)}")


def check_shape(support: Support, name: str, shape: tuple[int, ...]) -> None:
    """A clear error when a support does not fit a parameter's shape."""
    if isinstance(support, Ordered | Simplex) and len(shape) < 1:
        raise SupportError(f"parameter {name!r}: a {support.describe()} parameter needs a vector shape, got ()")
    if isinstance(support, Simplex) and shape[-1] < 2:
        raise SupportError(f"parameter {name!r}: a simplex needs at least 2 elements, got {shape}")
    if isinstance(support, CholeskyCorr) and (len(shape) != 2 or shape[0] != shape[1]):
        raise SupportError(f"parameter {name!r}: a cholesky_corr parameter is (K, K), got {shape}")
