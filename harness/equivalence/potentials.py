"""What a backend's sampler samples, evaluated at shared constrained points.

A backend's potential hook (``Backend.potential(spec, data) -> Potential``) is the sampler's
``V(u) = -log p(x(u)) - log |det dx/du|`` on the library's own unconstrained scale, harness layout
(``harness.equivalence.points``): ``to_unconstrained(point) -> u`` and ``value_and_grad(u)``
(optionally ``value_and_grad_batch(U)``). Libraries may use different transforms for the same
support (PyMC's simplex is not Stan's stick breaking), so potentials are compared through the
*constrained potential*

    W(x) = V(T(x)) + log |det dx/du|  at u = T(x)   =   -log p(x) + a constant,

which no longer depends on the transform. Where a backend's block of ``u`` equals the canonical
(Stan) transform's at the point, ``log |det dx/du|`` of that block is the canonical one, exact; where
it does not (another transform), it is ``-log |det dT/dx|`` from central differences of the
backend's own ``to_unconstrained`` along the block's free coordinates (Richardson-extrapolated, with
the difference of two step sizes as its error, added to the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.equivalence import points as pts
from harness.spec import Data, ModelSpec

U_RTOL = 1e-9  # a block "uses the canonical transform" when |du| <= 1e-9 (1 + |u|)
FD_REL_STEP = 1e-5


@dataclass
class Evaluation:
    """One backend family's potential at the points: W, gradients in its own u, and what was numeric."""

    us: np.ndarray  # (n_points, d) the backend's unconstrained points
    values: np.ndarray  # (n_points,) V(u)
    grads: np.ndarray  # (n_points, d)
    w: np.ndarray  # (n_points,) constrained potential V + log|det dx/du|
    w_err: np.ndarray  # (n_points,) error of w from numeric Jacobians (0 where exact)
    canonical: dict[str, bool]  # block -> equals the canonical transform at every point
    own_transform: bool = True
    notes: list[str] = field(default_factory=list)


def evaluate_batch(potential, us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    batch = getattr(potential, "value_and_grad_batch", None)
    if batch is not None:
        values, grads = batch(us)
        return np.asarray(values, dtype=np.float64), np.asarray(grads, dtype=np.float64)
    pairs = [potential.value_and_grad(u) for u in us]
    return (np.array([v for v, _ in pairs], dtype=np.float64),
            np.array([np.asarray(g, dtype=np.float64) for _, g in pairs], dtype=np.float64))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= U_RTOL * (1.0 + np.abs(b))))


def _perturbed(block: pts.Block, point: dict, flat_index: int, delta: float) -> dict:
    x = np.array(point[block.name], dtype=np.float64).reshape(block.shape)
    flat = x.reshape(-1)
    flat[flat_index] += delta
    out = dict(point)
    out[block.name] = block.support.complete(flat.reshape(block.shape))
    return out


def numeric_block_logdet(potential, blocks: list[pts.Block], block: pts.Block, point: dict) -> tuple[float, float]:
    """(log |det dx/du|, its error) of the backend's map for one block, from central differences of
    ``to_unconstrained`` along the block's free coordinates (other parameters fixed)."""
    mask = block.support.free_mask(block.shape).reshape(-1)
    free = np.flatnonzero(mask)
    x = np.asarray(point[block.name], dtype=np.float64).reshape(-1)

    def jacobian(scale: float) -> np.ndarray:
        cols = []
        for j in free:
            h = scale * max(1e-3, min(1.0, abs(x[j])))
            up = potential.to_unconstrained(_perturbed(block, point, int(j), h))[block.start:block.stop]
            down = potential.to_unconstrained(_perturbed(block, point, int(j), -h))[block.start:block.stop]
            cols.append((np.asarray(up) - np.asarray(down)) / (2 * h))
        return np.stack(cols, axis=1)

    ld1 = np.linalg.slogdet(jacobian(FD_REL_STEP))[1]
    ld2 = np.linalg.slogdet(jacobian(FD_REL_STEP / 2))[1]
    richardson = (4 * ld2 - ld1) / 3
    return -float(richardson), 10.0 * abs(ld2 - ld1) + 1e-12


def evaluate(potential, spec: ModelSpec, data: Data, points: list[dict]) -> Evaluation:
    """The potential at every point, and W with the Jacobian of the backend's own transform."""
    blocks = pts.layout(spec, data)
    own = getattr(potential, "own_transform", True)
    us = np.array([np.asarray(potential.to_unconstrained(p), dtype=np.float64) for p in points])
    d = pts.dimension(blocks)
    if us.shape[1] != d:
        raise ValueError(f"the potential's unconstrained vector has {us.shape[1]} coordinates; the declared "
                         f"parameters have {d} ({', '.join(f'{b.name}: {b.size}' for b in blocks)})")
    values, grads = evaluate_batch(potential, us)
    canon_u = np.array([pts.unconstrain(spec, data, p) for p in points])
    canonical = {b.name: all(_same(us[k, b.start:b.stop], canon_u[k, b.start:b.stop]) for k in range(len(points)))
                 for b in blocks}
    logdets = [pts.block_logdets(spec, data, p) for p in points]
    w = values.copy()
    w_err = np.zeros(len(points))
    notes = []
    for b in blocks:
        if canonical[b.name] or b.support.elementwise:
            w += np.array([ld[b.name] for ld in logdets])  # elementwise: a mismatch is the transform check's fail
            continue
        notes.append(f"{b.name}: the library's own {b.support.describe()} transform (Jacobian by finite differences)")
        for k, p in enumerate(points):
            ld, err = numeric_block_logdet(potential, blocks, b, p)
            w[k] += ld
            w_err[k] += err
    return Evaluation(us, values, grads, w, w_err, canonical, own, notes)


def fd_gradient(potential, u: np.ndarray, coords: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(finite-difference gradient of the potential along ``coords`` at ``u``, its error bound, the
    potential's own gradient there): Richardson central differences, steps 1e-3 (1 + |u_i|) and half."""
    value0, grads = evaluate_batch(potential, u[None, :])
    g_fd = np.empty(len(coords))
    err = np.empty(len(coords))
    probes = []
    for i in coords:
        h = 1e-3 * (1.0 + abs(u[i]))
        for step in (h, -h, h / 2, -h / 2):
            v = u.copy()
            v[i] += step
            probes.append(v)
    values, _ = evaluate_batch(potential, np.array(probes))
    v0 = abs(float(value0[0]))
    for n, i in enumerate(coords):
        h = 1e-3 * (1.0 + abs(u[i]))
        up, down, up2, down2 = values[4 * n:4 * n + 4]
        d1, d2 = (up - down) / (2 * h), (up2 - down2) / h
        g_fd[n] = (4 * d2 - d1) / 3
        err[n] = 10 * abs(d2 - d1) + 1e3 * np.finfo(float).eps * v0 / (h / 2)
    return g_fd, err, grads[0][coords]
