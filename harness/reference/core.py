"""Reference posteriors, following posteriordb's definition of a reference posterior.

A reference for a catalogue model at its default size is made by any backend through the backend
protocol (``compile`` / ``sample``):

1. ``chains`` (10) chains x ``warmup`` x ``draws`` iterations. When the smallest bulk ESS over the
   scalars (free parameters, derived quantities and the log density ``joint`` = log prior + log
   likelihood) is below ``ess_target`` (``SUMMARY_ESS``: 40,000 for small models, 10,000 for medium
   and large ones; never below ``thinned``), the run is repeated with more draws per chain
   (``draws * 1.3 * target / ESS``, up to ``max_draws``; at least twice the draws while the max R-hat is
   1.01 or more, which short chains inflate). The larger target makes the summary's MCSEs
   small next to a benchmark fit's, which is what gives the accuracy verdict its power.
2. Thinning to ``thinned`` near-independent draws: every ``ceil(n_total / min ESS)``-th draw of each
   chain, then ``thinned`` of those, evenly spaced.
3. Validity (all must hold, else the model gets ``REASON.md`` with the numbers instead of a
   reference): max rank-normalised split R-hat < 1.01 (``harness.diagnostics.rhat``), no divergent
   transition, E-BFMI > 0.2 in every chain (from ``Fit.sample_stats["energy"]``; recorded as
   unavailable when the backend does not report energy), min bulk ESS >= ``thinned``.
4. Check against a second backend (``check_backend``, another implementation family): a 4-chain
   run compared with the reference by ``harness.accuracy.compare``; the check must not FAIL.

Stored under ``results/references/<model>/``: ``summary.csv`` (one row per scalar: parameter, mean,
sd, mcse_mean, q05, q50, q95, computed from all post-warm-up draws), ``draws.npz`` (the thinned draws,
``np.savez_compressed``, one float32 array (thinned, *shape) per quantity) and ``provenance.json``
(``harness.provenance.collect`` plus the diagnostics, the thinning and the check).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness import diagnostics
from harness.accuracy import (
    DRAWS_FILE,
    PROVENANCE_FILE,
    REASON_FILE,
    SUMMARY_FILE,
    cell_statistics,
    compare,
    flatten,
    summarise,
)
from harness.diagnostics import RHAT_MAX

if TYPE_CHECKING:
    import pandas as pd

CHAINS = 10
WARMUP = 1000
DRAWS = 2000
MAX_DRAWS = 20_000
THINNED = 10_000
SUMMARY_ESS = {"small": 40_000, "medium": 10_000, "large": 10_000}
EBFMI_MIN = 0.2
CHECK_CHAINS, CHECK_DRAWS = 4, 2500


def default_backend(exclude_family: str | None = None, families: list[str] | None = None) -> str:
    """The reference backend when none is named, chosen by capability, never by name.

    The first available backend whose capabilities say ``reference_quality``; without any, the
    available default backend that is cheapest per fit (largest ``sbc_replicates``, which each module
    sizes by its cost). ``exclude_family``: skip backends of this implementation family (for the
    check backend). ``families``: only backends that sample one of these model families (a model
    that brings only some families).
    """
    from harness.backends import availability, capabilities, default_backends

    usable = [b for b, why in availability().items() if why is None and b in default_backends()]
    usable = [b for b in usable if exclude_family is None or capabilities(b).family != exclude_family]
    if families is not None:
        usable = [b for b in usable if set(capabilities(b).samples) & set(families)]
    if not usable:
        raise RuntimeError("no available backend" + (f" outside family {exclude_family!r}" if exclude_family else "")
                           + (f" for the families {', '.join(families)}" if families is not None else ""))
    declared = [b for b in usable if capabilities(b).reference_quality]
    if declared:
        return declared[0]
    return max(usable, key=lambda b: capabilities(b).sbc_replicates)


def joint_draws(spec, data, draws: dict[str, np.ndarray]) -> np.ndarray:
    """log prior + log likelihood at every draw, (chain, draw)."""
    from harness.sbc.ranks import point_at

    chains, n = next(iter(draws.values())).shape[:2]
    out = np.empty((chains, n))
    for c in range(chains):
        for d in range(n):
            p = point_at(spec, draws, c, d)
            out[c, d] = float(spec.log_prior(p, data)) + float(spec.log_likelihood(p, data))
    return out


def ebfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain: mean squared energy change over the energy variance; energy (chain, draw)."""
    energy = np.asarray(energy, dtype=np.float64)
    num = np.mean(np.diff(energy, axis=1) ** 2, axis=1)
    return num / np.var(energy, axis=1)


def thin_indices(chains: int, draws: int, ess_min: float, keep: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(chain idx, draw idx, factor, candidates): ``keep`` evenly spaced of every factor-th draw per chain."""
    total = chains * draws
    factor = max(1, math.ceil(total / ess_min)) if np.isfinite(ess_min) and ess_min > 0 else total
    per_chain = np.arange(0, draws, factor)
    cand_chain = np.repeat(np.arange(chains), per_chain.size)
    cand_draw = np.tile(per_chain, chains)
    pick = np.round(np.linspace(0, cand_draw.size - 1, min(keep, cand_draw.size))).astype(int)
    return cand_chain[pick], cand_draw[pick], factor, int(cand_draw.size)


@dataclass
class Reference:
    model: str
    size: str
    backend: str
    valid: bool
    problems: list[str]
    summary: pd.DataFrame | None = None  # None when no run produced one (an invalid reference)
    thinned: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)


def _fit(backend_name: str, spec, data, settings, seed: int):
    from harness.backends import get_backend

    backend = get_backend(backend_name)
    compiled = backend.compile(spec, data, settings)
    fit = backend.sample(compiled, data, settings, seed)
    bad = [k for k, v in fit.draws.items() if not np.all(np.isfinite(v))]
    if bad:
        raise FloatingPointError(f"non-finite draws in {bad}")
    return fit, compiled, backend


def generate(model: str, backend: str, check_backend: str | None, *, chains: int = CHAINS, warmup: int = WARMUP,
             draws: int = DRAWS, max_draws: int = MAX_DRAWS, thinned: int = THINNED, ess_target: int | None = None,
             seed: int = 0, cores: int = 1,
             target_accept: float = 0.8, log=print) -> Reference:
    """Run, diagnose, thin and check one model's reference (see the module docstring)."""
    from harness.catalogue import get_model
    from harness.settings import SamplerSettings
    spec = get_model(model)
    data = spec.data()
    size = spec.size_label()
    problems: list[str] = []
    target = max(thinned, ess_target if ess_target is not None else SUMMARY_ESS.get(spec.size_class, thinned))
    n = draws
    while True:
        settings = SamplerSettings(chains=chains, warmup=warmup, draws=n, cores=cores, target_accept=target_accept)
        start = time.perf_counter()
        fit, compiled, module = _fit(backend, spec, data, settings, seed)
        wall = time.perf_counter() - start
        reported = spec.with_derived(fit.draws, data)
        ess_vars = {**reported, "joint": joint_draws(spec, data, fit.draws)} if spec.has_density else dict(reported)
        ess_ds = diagnostics.ess(ess_vars, "bulk")
        ess_all = np.concatenate([np.asarray(ess_ds[k].values, dtype=float).reshape(-1) for k in ess_vars])
        ess_min = float(np.nanmin(ess_all)) if np.isfinite(ess_all).any() else float("nan")
        rhat_ds = diagnostics.rhat(ess_vars)
        rhat_all = np.concatenate([np.asarray(rhat_ds[k].values, dtype=float).reshape(-1) for k in ess_vars])
        rhat_max = float(np.nanmax(rhat_all)) if not np.isnan(rhat_all).all() else float("nan")
        log(f"reference {model} x {backend}: {chains} x {warmup} + {n} draws in {wall:.1f} s; "
            f"min bulk ESS {ess_min:.0f}, max R-hat {rhat_max:.4f}")
        if n >= max_draws or not np.isfinite(ess_min) or np.any(fit.diverging):
            break  # (divergences: no number of draws makes a valid reference)
        if ess_min >= target and rhat_max < RHAT_MAX:
            break
        # more draws: for the ESS target, or (at least twice as many) for an R-hat that short chains inflate
        grow = 1.3 * target / max(ess_min, 1.0) if ess_min < target else 2.0
        n = min(max_draws, int(math.ceil(n * max(grow, 2.0 if rhat_max >= RHAT_MAX else 1.0) / 100.0) * 100))
    divergences = int(np.sum(fit.diverging))
    energy = fit.sample_stats.get("energy") if getattr(fit, "sample_stats", None) else None
    bfmi = ebfmi(energy).tolist() if energy is not None else None
    if not rhat_max < RHAT_MAX:
        problems.append(f"max R-hat {rhat_max:.4f} >= {RHAT_MAX}")
    if divergences:
        problems.append(f"{divergences} divergent transitions in {chains} x {n} draws")
    if bfmi is not None and min(bfmi) <= EBFMI_MIN:
        problems.append(f"E-BFMI {min(bfmi):.3f} <= {EBFMI_MIN} in some chain")
    if not ess_min >= thinned:
        problems.append(f"min bulk ESS {ess_min:.0f} < {thinned} with {chains} x {n} draws")
    ci, di, factor, candidates = thin_indices(chains, n, ess_min, thinned)
    thinned_draws = {k: np.asarray(v)[ci, di] for k, v in reported.items()}
    summary = summarise(reported)
    names, _ = flatten(reported)
    worst_ess = names[int(np.nanargmin(ess_all[:len(names)]))] if len(names) else ""
    facts = {
        "model": model, "size": size, "backend": backend, "backend_versions": module.versions(),
        "sampler": {**compiled.info, **fit.info}.get("sampler", backend),
        "settings": settings.to_dict(), "seed": seed, "wall_s": wall,
        "ess_bulk_min": ess_min,
        "ess_bulk_min_over": "parameters, derived quantities" + (" and joint log density" if spec.has_density else ""),
        "ess_bulk_min_scalar": worst_ess if float(np.nanmin(ess_all[:len(names)])) <= ess_min else "joint",
        "rhat_max": rhat_max, "divergences": divergences,
        "ebfmi": bfmi if bfmi is not None else "unavailable (the backend reports no energy)",
        "thinning": {"factor": factor, "candidates": candidates, "kept": int(len(ci))},
        "summary_from": "all post-warm-up draws (mean, sd, quantiles); mcse_mean by ArviZ",
        "criteria": {"chains_min": 10, "rhat_max": RHAT_MAX, "divergences": 0, "ebfmi_min": EBFMI_MIN,
                     "thinned_draws": thinned, "summary_ess_target": target},
    }
    ref = Reference(model, size, backend, not problems, problems, summary, thinned_draws, facts)
    if check_backend:
        facts["check"] = check(ref, spec, data, check_backend, seed=seed + 1, cores=cores,
                               target_accept=target_accept, log=log)
        if facts["check"].get("accuracy") == "FAIL":
            problems.append(f"check against {check_backend} FAILS: {facts['check']['accuracy_worst']} "
                            f"z = {facts['check']['accuracy_z']:.2f}")
            ref.valid = False
    return ref


EXACT_DRAWS = 400_000


def generate_exact(model: str, *, thinned: int = THINNED, draws: int = EXACT_DRAWS, seed: int = 0,
                   log=print) -> Reference:
    """The reference of a model whose posterior is known (``SPEC.exact_posterior``): ``draws`` independent
    exact draws (their MCSEs are those of independent draws), ``thinned`` of them stored. Always valid."""
    from harness.catalogue import get_model

    spec = get_model(model)
    if spec.exact_posterior is None:
        raise ValueError(f"model {model!r} declares no exact_posterior")
    data = spec.data()
    start = time.perf_counter()
    exact = spec.exact_posterior(np.random.default_rng(seed), data, draws)
    reported = spec.with_derived({k: np.asarray(v, dtype=np.float64)[None] for k, v in exact.items()}, data)
    summary = summarise(reported)
    keep = np.round(np.linspace(0, draws - 1, thinned)).astype(int)
    thinned_draws = {k: np.asarray(v)[0, keep] for k, v in reported.items()}
    log(f"reference {model}: {draws:,} exact posterior draws in {time.perf_counter() - start:.1f} s")
    facts = {"model": model, "size": spec.size_label(), "backend": "exact", "sampler": "exact_posterior",
             "settings": {"chains": 1, "draws": draws}, "seed": seed, "ess_bulk_min": float(draws), "rhat_max": 1.0,
             "divergences": 0, "ebfmi": "not applicable (independent draws)",
             "thinning": {"factor": 1, "candidates": draws, "kept": thinned},
             "summary_from": f"{draws:,} independent draws of SPEC.exact_posterior (mean, sd, quantiles and MCSEs)",
             "criteria": "exact: independent draws from the known posterior"}
    return Reference(model, spec.size_label(), "exact", True, [], summary, thinned_draws, facts)


def check(ref: Reference, spec, data, backend: str, *, seed: int, cores: int, target_accept: float, log=print) -> dict:
    """A 4-chain run of ``backend`` compared with the reference (``accuracy.compare``)."""
    from harness.settings import SamplerSettings

    settings = SamplerSettings(chains=CHECK_CHAINS, warmup=WARMUP, draws=CHECK_DRAWS, cores=cores,
                               target_accept=target_accept)
    if ref.summary is None:
        raise ValueError(f"{ref.model}: no reference summary to check {backend} against")
    start = time.perf_counter()
    try:
        fit, _, module = _fit(backend, spec, data, settings, seed)
    except Exception as err:
        return {"backend": backend, "accuracy": "not run", "error": f"{type(err).__name__}: {err}"[:500]}
    result = compare(ref.summary, cell_statistics(spec.with_derived(fit.draws, data)))
    out = {"backend": backend, "versions": module.versions(), "settings": settings.to_dict(), "seed": seed,
           "divergences": int(np.sum(fit.diverging)), "wall_s": time.perf_counter() - start, **result}
    log(f"check {ref.model} x {backend}: {result['accuracy']} (worst {result['accuracy_worst']}, "
        f"z = {result['accuracy_z']:.2f}, {result['accuracy_diff_sd']:.3f} sd)")
    return out


def write(ref: Reference, root: Path | None = None, command: list[str] | None = None) -> Path:
    """Store a valid reference (summary.csv, draws.npz, provenance.json) or, if invalid, REASON.md, in
    ``harness.catalogue.reference_dir(model, root)``."""
    from harness import provenance
    from harness.catalogue import reference_dir
    from harness.results import write_csv_atomic, write_json_atomic

    folder = reference_dir(ref.model, root)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = provenance.collect(ref.facts.get("settings", {}), command)
    manifest = {**manifest, **{k: v for k, v in ref.facts.items() if k != "settings"}, "valid": ref.valid,
                "problems": ref.problems}
    for name in (SUMMARY_FILE, DRAWS_FILE, REASON_FILE):
        (folder / name).unlink(missing_ok=True)
    write_json_atomic(folder / PROVENANCE_FILE, manifest)
    if not ref.valid:
        (folder / REASON_FILE).write_text(reason_text(ref))
        return folder
    if ref.summary is None:
        raise ValueError(f"{ref.model}: a valid reference needs its summary")
    write_csv_atomic(folder / SUMMARY_FILE, ref.summary)
    tmp = folder / "draws.tmp.npz"
    draws = {str(k): np.asarray(v, dtype=np.float32) for k, v in ref.thinned.items()}
    np.savez_compressed(tmp, **draws)  # type: ignore[arg-type]  # numpy stubs: **kwds also matched to allow_pickle
    tmp.replace(folder / DRAWS_FILE)
    return folder


def reason_text(ref: Reference) -> str:
    f = ref.facts
    lines = [f"# No reference posterior for `{ref.model}`", "",
             f"`python -m harness reference --models {ref.model} --backend {ref.backend}` could not make a "
             "reference that meets posteriordb's criteria (>= 10 chains, R-hat < 1.01, no divergences, "
             f"E-BFMI > {EBFMI_MIN}, {f.get('criteria', {}).get('thinned_draws', THINNED)} near-independent draws):", ""]
    lines += [f"- {p}" for p in ref.problems]
    s = f.get("settings", {})
    lines += ["", f"Run: {s.get('chains')} chains x {s.get('warmup')} warm-up x {s.get('draws')} draws, "
              f"target_accept {s.get('target_accept')}, seed {f.get('seed')}, sampler {f.get('sampler')}; "
              f"min bulk ESS {f.get('ess_bulk_min', float('nan')):.0f}, max R-hat {f.get('rhat_max', float('nan')):.4f}, "
              f"{f.get('divergences')} divergences, E-BFMI {f.get('ebfmi')}.", "",
              "Benchmark cells of this model get the accuracy verdict `no reference`. The numbers are in "
              "`provenance.json`."]
    return "\n".join(lines) + "\n"


def upgrade_summary(folder: Path) -> bool:
    """A stored reference whose summary predates the spread statistics (no ``mcse_sd``): its summary made
    again from its stored thinned draws (one chain of near-independent draws), with a note in its
    provenance; True when it was upgraded."""
    from harness.accuracy import SUMMARY_COLUMNS
    from harness.results import write_csv_atomic, write_json_atomic

    folder = Path(folder)
    summary_path, draws_path = folder / SUMMARY_FILE, folder / DRAWS_FILE
    if not summary_path.is_file() or not draws_path.is_file():
        return False
    import pandas as pd

    if set(SUMMARY_COLUMNS) <= set(pd.read_csv(summary_path).columns):
        return False
    with np.load(draws_path) as z:
        draws = {k: np.asarray(z[k], dtype=np.float64)[None] for k in z.files}  # (1, n, *shape)
    write_csv_atomic(summary_path, summarise(draws))
    prov_path = folder / PROVENANCE_FILE
    prov = json.loads(prov_path.read_text()) if prov_path.is_file() else {}
    prov["summary_from"] = ("the stored thinned draws (near-independent, one chain): remade to add the MCSEs of "
                            "the sd and of the 5% and 95% quantiles (harness.reference.core.upgrade_summary)")
    write_json_atomic(prov_path, prov)
    return True


def table(root: Path) -> list[dict]:
    """One row per stored model folder for the README table."""
    rows = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()) if Path(root).is_dir() else []:
        prov = folder / PROVENANCE_FILE
        facts = json.loads(prov.read_text()) if prov.is_file() else {}
        rows.append({"model": folder.name, "valid": (folder / SUMMARY_FILE).is_file(), **facts})
    return rows
