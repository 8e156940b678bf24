"""Import posteriordb's reference draws ``gp_pois_regr-gp_pois_regr`` as this model's reference posterior.

posteriordb's draws hold ``rho``, ``alpha`` and the transformed parameter ``f`` but not the free
parameter ``f_tilde``, so ``python -m harness reference --import-posteriordb`` cannot read them as they
are. ``f = L f_tilde`` with ``L`` lower triangular (the Cholesky factor of the kernel matrix at the
draw's ``rho`` and ``alpha``, ``model.cholesky_factor``), so each draw's ``f_tilde`` is ``L^-1 f``, one
forward substitution (``scipy.linalg.solve_triangular``). The posterior of ``(rho, alpha, f)`` is the
posterior of ``(rho, alpha, f_tilde)`` under this bijection. posteriordb's ``f`` has 15 significant
digits; with ``L``'s smallest diagonal entries near 1e-5 (the 1e-10 jitter), the recovered ``f_tilde``
carries errors of about 1e-9 to 1e-6, far below the reference's Monte Carlo error. Everything else is
``harness.reference.posteriordb.import_reference``; the provenance says what was recomputed.

Run from the checkout: ``python -m models.gp_pois_regr.import_reference DIR`` (DIR: a posteriordb checkout).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.linalg import solve_triangular

from harness.reference import posteriordb
from models.gp_pois_regr.model import cholesky_factor


def with_f_tilde(chains: list[dict[str, np.ndarray]], x: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Each chain plus ``f_tilde[j]`` = (L^-1 f)[j] at every draw."""
    n = len(x)
    out = []
    for chain in chains:
        f = np.stack([chain[f"f[{j + 1}]"] for j in range(n)], axis=-1)
        L = cholesky_factor(x, chain["rho"], chain["alpha"])
        f_tilde = np.stack([solve_triangular(L[i], f[i], lower=True) for i in range(len(f))])
        out.append({**chain, **{f"f_tilde[{j + 1}]": f_tilde[:, j] for j in range(n)}})
    return out


def main(argv: list[str]) -> int:
    from harness.catalogue import get_model
    from harness.reference import core

    root = Path(argv[0])
    x = get_model("gp_pois_regr").data()["x"]
    read = posteriordb.read_chains
    posteriordb.read_chains = lambda path: with_f_tilde(read(path), x)
    try:
        ref = posteriordb.import_reference("gp_pois_regr", root)
    finally:
        posteriordb.read_chains = read
    ref.facts["source"]["recomputed"] = ("f_tilde = L^-1 f per draw (forward substitution, L = cholesky_factor(x, rho, "
                                         "alpha)): posteriordb's draws hold f, not the free parameter f_tilde")
    folder = core.write(ref, None, ["python", "-m", "models.gp_pois_regr.import_reference", *argv])
    print(f"gp_pois_regr: imported {ref.facts['source']['posteriordb']} -> {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
