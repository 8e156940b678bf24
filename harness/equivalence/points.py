"""Where the equivalence checks evaluate: start points, the coordinate steps and the support probes, on
the canonical unconstrained layout of ``harness.unconstrained``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness import supports
from harness.spec import Data, ModelSpec
from harness.unconstrained import Block, block_logdets, constrain, dimension, layout, unconstrain  # noqa: F401

STEP = 1.0  # coordinate step of the potential points (unconstrained scale)
MAX_STEPS = 24  # coordinate steps per point set; every parameter gets at least one
INIT_RADIUS = 2.0  # random points: u ~ Uniform(-2, 2) on the canonical scale (Stan's inits)
OUTSIDE = 1e-6  # support: outside an interval bound by this fraction of its scale
INSIDE = 1e-4  # support: inside an interval bound by this fraction of its scale
OUTSIDE_STRUCTURE = 1e-3  # ordered / simplex probes: an order reversed, a component below 0, by this much
MAX_DRAWS = 20  # start points: at most this many draws per point while skipping non-finite ones


def inside(spec: ModelSpec, data: Data, point: dict) -> bool:
    """Every free parameter of ``point`` lies in its declared support."""
    return all(b.support.inside(np.asarray(point[b.name], dtype=np.float64).reshape(b.shape), point, data)
               for b in layout(spec, data))


def random_points(spec: ModelSpec, data: Data, n: int, seed: int) -> list[dict]:
    """``n`` points from canonical ``u ~ Uniform(-2, 2)`` (what Stan initialises from)."""
    draw = _random_draw(spec, data, np.random.default_rng(seed))
    return [draw() for _ in range(n)]


def _random_draw(spec: ModelSpec, data: Data, rng: np.random.Generator) -> Callable[[], dict]:
    d = dimension(layout(spec, data))
    return lambda: constrain(spec, data, rng.uniform(-INIT_RADIUS, INIT_RADIUS, d))[0]


def _prior_draw(spec: ModelSpec, data: Data, rng: np.random.Generator) -> Callable[[], dict]:
    sample_prior = spec.sample_prior
    assert sample_prior is not None
    return lambda: {k: np.asarray(v, dtype=np.float64) for k, v in sample_prior(rng, data).items()}


def start_points(spec: ModelSpec, data: Data, n: int, seed: int, reference: dict | None = None,
                 log_density: Callable[[list[dict]], object] | None = None) -> tuple[list[dict], str, str]:
    """(``n`` constrained points, where they come from, a warning or ""): draws of the model's stored
    reference posterior where it has one (the region a sampler visits, where a prior draw can give log
    densities so large that a relative tolerance hides everything), else prior draws where the model has
    a prior sampler, else random points on the canonical scale.

    ``log_density``: the reference log density (points -> values; a string or an exception when it
    cannot be evaluated). Prior draws and random points where it is not finite (a heavy-tailed prior
    whose draw overflows the likelihood) are skipped and drawn again from the same stream, so the points
    are the first ``n`` draws with a finite reference, and exactly the first ``n`` draws when those are
    all finite. After ``MAX_DRAWS`` x ``n`` draws the remaining points are the skipped draws, in order,
    and the warning says so (the checks then fail on them, as they should: the model's start points
    cannot be compared)."""
    if reference:
        total = len(next(iter(reference.values())))
        rng = np.random.default_rng(seed)
        pick = rng.choice(total, size=min(n, total), replace=False)
        names = [p.name for p in spec.params]
        if all(k in reference for k in names):
            points = [{k: np.asarray(reference[k][i], dtype=np.float64) for k in names} for i in pick]
            points = [_snap(spec, data, p) for p in points]
            if len(points) == n and all(inside(spec, data, p) for p in points):
                return points, "reference posterior draws", ""
    rng = np.random.default_rng(seed)
    if spec.sample_prior is not None:
        draw, source = _prior_draw(spec, data, rng), "prior draws"
    else:
        draw, source = _random_draw(spec, data, rng), "random points, u ~ Uniform(-2, 2) on the canonical scale"
    return finite_draws(draw, n, log_density, source)


def finite_draws(draw: Callable[[], dict], n: int, log_density: Callable[[list[dict]], object] | None,
                 source: str) -> tuple[list[dict], str, str]:
    """(the first ``n`` of ``draw()``'s points where ``log_density`` is finite, ``source`` with how many
    were skipped, a warning or ""): drawn ``n`` at a time, at most ``MAX_DRAWS`` x ``n``; short of ``n``,
    the skipped draws follow the finite ones (in order) and the warning says how many are finite. Without
    ``log_density``, or where it cannot be evaluated at all, the first ``n`` draws."""
    points: list[dict] = []
    finite: list[bool] = []
    while sum(finite) < n and len(points) < MAX_DRAWS * n:
        batch = [draw() for _ in range(n)]
        values = _values(log_density, batch) if log_density is not None else None
        if values is None:  # nothing to judge by (the reference's error is the checks' to report)
            return (points + batch)[:n], source, ""
        points += batch
        finite += [bool(np.isfinite(v)) for v in values]
    kept = [p for p, ok in zip(points, finite) if ok]
    skipped = [p for p, ok in zip(points, finite) if not ok]
    if len(kept) >= n:
        n_skipped = _position(finite, n) - n  # the skipped draws before the n-th finite one
        return kept[:n], source + (f" ({n_skipped} skipped: reference log density not finite)" if n_skipped else ""), ""
    warning = (f"start points: only {len(kept)} of {len(points)} {source.split(',')[0]} have a finite reference "
               f"log density; {n - len(kept)} of the {n} start points are draws where it is not")
    return kept + skipped[:n - len(kept)], f"{source} ({warning})", warning


def _position(finite: list[bool], n: int) -> int:
    """The number of draws up to and including the ``n``-th finite one."""
    count = 0
    for i, ok in enumerate(finite):
        if count == n:
            return i
        count += ok
    return len(finite)


def _values(log_density: Callable[[list[dict]], object], batch: list[dict]) -> np.ndarray | None:
    """The reference log density at ``batch`` (non-finite where it raises at a point); None when it
    cannot be evaluated at all (an error text from a backend)."""
    with np.errstate(all="ignore"):
        try:
            values = log_density(batch)
        except Exception:
            values = [_one(log_density, p) for p in batch]
    if values is None or isinstance(values, str):
        return None
    out = np.asarray(values, dtype=np.float64).reshape(-1)
    return out if out.size == len(batch) else None


def _one(log_density: Callable[[list[dict]], object], point: dict) -> float:
    try:
        value = log_density([point])
    except Exception:  # a point the reference cannot evaluate: skipped like a non-finite one
        return np.nan
    return np.nan if value is None or isinstance(value, str) else float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


def _snap(spec: ModelSpec, data: Data, point: dict) -> dict:
    """A stored draw (float32) made exact: dependent elements recomputed (simplex, Cholesky rows)."""
    out = dict(point)
    for b in layout(spec, data):
        if not b.support.elementwise:
            out[b.name] = constrain_block(b, b.support.unconstrain(point[b.name], point, data), out, data)
    return out


def constrain_block(block: Block, u: np.ndarray, point: dict, data: Data) -> np.ndarray:
    return block.support.constrain(u, block.shape, point, data)[0]


def step_coordinates(blocks: list[Block], seed: int, limit: int = MAX_STEPS) -> list[int]:
    """Coordinates of the unconstrained vector to step along: all when there are at most ``limit``,
    else the first of every block and a fixed random choice of the rest, sorted."""
    d = dimension(blocks)
    if d <= limit:
        return list(range(d))
    chosen = {b.start for b in blocks if b.size}
    rest = np.array(sorted(set(range(d)) - chosen))
    extra = max(0, limit - len(chosen))
    if extra and rest.size:
        chosen |= set(np.random.default_rng(seed).choice(rest, size=min(extra, rest.size), replace=False).tolist())
    return sorted(int(i) for i in chosen)


def coordinate_label(blocks: list[Block], i: int) -> str:
    for b in blocks:
        if b.start <= i < b.stop:
            return b.label(i - b.start)
    return f"u{i}"


def potential_points(spec: ModelSpec, data: Data, x0: dict, x1: dict, coords: list[int]) -> tuple[list[dict], list[str]]:
    """[x0, x(u0 + STEP e_i) for every i in ``coords``, x1] and a label for each: (points, labels).

    One coordinate changes at a time (on the canonical scale), so a wrong scale or a missing
    Jacobian in one coordinate cannot cancel against another.
    """
    blocks = layout(spec, data)
    u0 = unconstrain(spec, data, x0)
    points, labels = [x0], ["u0"]
    for i in coords:
        u = u0.copy()
        u[i] += STEP
        points.append(constrain(spec, data, u)[0])
        labels.append(f"u0 + e({coordinate_label(blocks, i)})")
    points.append(x1)
    labels.append("the second start point")
    return points, labels


def support_probes(spec: ModelSpec, data: Data, base: dict) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """([(label, point just outside)], [(label, point just inside)]) for every bounded parameter.

    Interval bounds (also one-sided and parameter-dependent ones, evaluated at ``base``): every element
    ``OUTSIDE`` x scale beyond the bound, and ``INSIDE`` x scale within it (scale: ``b - a``, or
    ``max(1, |bound|)`` for one-sided bounds). Ordered: the first two elements in the wrong order by
    ``OUTSIDE_STRUCTURE``; positive ordered also the first element below 0; simplex: the first
    component below 0 by ``OUTSIDE_STRUCTURE`` (the sum kept at 1). Cholesky factors get no probe.
    """
    outside: list[tuple[str, dict]] = []
    inside_: list[tuple[str, dict]] = []
    blocks = layout(spec, data)
    u_base = unconstrain(spec, data, base)

    def with_value(name, value):
        """``base`` with ``name`` set to ``value``; the other parameters keep their unconstrained values,
        so a parameter whose bound depends on ``name`` stays inside its (moved) support."""
        point: dict = {}
        for b in blocks:
            if b.name == name:
                point[b.name] = np.asarray(value, dtype=np.float64)
            else:
                point[b.name] = b.support.constrain(u_base[b.start:b.stop], b.shape, point, data)[0]
        return point

    for b in layout(spec, data):
        x = np.asarray(base[b.name], dtype=np.float64).reshape(b.shape)
        s = b.support
        if isinstance(s, supports.Interval):
            lo, hi = s.bounds(base, data)
            lo, hi = np.broadcast_to(lo, b.shape), np.broadcast_to(hi, b.shape)
            both = np.isfinite(lo) & np.isfinite(hi)
            for bound, sign in ((lo, -1.0), (hi, 1.0)):
                if not np.all(np.isfinite(bound)):
                    continue
                scale = np.where(both, hi - lo, np.maximum(1.0, np.abs(bound)))
                for offset, out in ((OUTSIDE, outside), (-INSIDE, inside_)):
                    value = bound + sign * offset * scale
                    out.append((f"{b.name}={np.ravel(value)[0]:.9g}", with_value(b.name, value)))
        elif isinstance(s, supports.Ordered) and b.shape[-1] >= 2:
            bad = x.copy()
            gap = OUTSIDE_STRUCTURE * max(1.0, float(np.max(np.abs(x))))
            bad[..., 1] = bad[..., 0] - gap
            bad[..., 2:] = bad[..., 1:2] + np.cumsum(np.ones_like(bad[..., 2:]), axis=-1)
            outside.append((f"{b.name} out of order", with_value(b.name, bad)))
            if s.positive:
                neg = x.copy()
                neg[..., 0] = -OUTSIDE_STRUCTURE
                outside.append((f"{b.name}[0] < 0", with_value(b.name, neg)))
        elif isinstance(s, supports.Simplex):
            bad = x.copy()
            bad[..., 1] += bad[..., 0] + OUTSIDE_STRUCTURE
            bad[..., 0] = -OUTSIDE_STRUCTURE
            outside.append((f"{b.name}[0] < 0", with_value(b.name, bad)))
    return outside, inside_
