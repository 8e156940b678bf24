"""The canonical unconstrained vector of a model: the layout of its free parameters and the declared
supports' Stan transforms, whole-model (``harness.supports`` has them per parameter).

Layout ("harness layout"): the free parameters in ``spec.params`` order, each an unconstrained block
of ``support.unconstrained_size(shape)`` numbers; elementwise blocks in C order. Every backend's
potential hook reports its unconstrained vector in this layout; CmdStan, which cannot unconstrain,
uses ``unconstrain`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness import supports
from harness.spec import Data, ModelSpec


@dataclass(frozen=True)
class Block:
    """One free parameter's place in the unconstrained vector."""

    name: str
    shape: tuple[int, ...]
    support: supports.Support
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size

    def label(self, i: int) -> str:
        """Name of coordinate ``i`` of the block (elementwise blocks name the element)."""
        if self.support.elementwise and self.shape:
            idx = np.unravel_index(i, self.shape)
            return f"{self.name}[{','.join(str(int(j)) for j in idx)}]"
        return f"{self.name}(u{i})" if self.size > 1 or self.shape else self.name


def layout(spec: ModelSpec, data: Data) -> list[Block]:
    blocks, start = [], 0
    for p in spec.params:
        shape = p.resolve_shape(data)
        support = p.space
        supports.check_shape(support, p.name, shape)
        size = support.unconstrained_size(shape)
        blocks.append(Block(p.name, shape, support, start, size))
        start += size
    return blocks


def dimension(blocks: list[Block]) -> int:
    return blocks[-1].stop if blocks else 0


def unconstrain(spec: ModelSpec, data: Data, point: dict) -> np.ndarray:
    """The canonical (Stan) unconstrained vector of a constrained point, harness layout."""
    parts = [b.support.unconstrain(np.asarray(point[b.name], dtype=np.float64).reshape(b.shape), point, data)
             for b in layout(spec, data)]
    return np.concatenate(parts) if parts else np.zeros(0)


def constrain(spec: ModelSpec, data: Data, u: np.ndarray) -> tuple[dict, float]:
    """(constrained point, log |det dx/du|) of the canonical map. Parameters are constrained in
    declaration order, so a bound that depends on another parameter sees it (declare it first)."""
    point: dict = {}
    logdet = 0.0
    for b in layout(spec, data):
        x, ld = b.support.constrain(np.asarray(u[b.start:b.stop], dtype=np.float64), b.shape, point, data)
        point[b.name] = x
        logdet += ld
    return point, logdet


def block_logdets(spec: ModelSpec, data: Data, point: dict) -> dict[str, float]:
    """{parameter: log |det dx/du|} of the canonical map at a constrained point."""
    out = {}
    for b in layout(spec, data):
        u = b.support.unconstrain(np.asarray(point[b.name], dtype=np.float64).reshape(b.shape), point, data)
        out[b.name] = b.support.constrain(u, b.shape, point, data)[1]
    return out
