"""SBC statistics of a run directory: ranks.csv, summary.csv, quantities.csv and the figures.

Verdicts with stated error rates (``finalise``):

1. **Screen.** Each model x backend gets the exact p-value of its ranks (Bonferroni over its Q
   quantities, ``harness.sbc.stats``); p < alpha *flags* it. A calibrated backend is flagged with
   probability <= alpha, so a run of m conclusive combinations expects up to m x alpha false flags.
   A flag is never a final ``fail`` by itself and is never hidden: without a confirmation it reads
   ``flagged (not confirmed)``.
2. **Confirmation** (``--confirm``). Every flagged combination is rerun on fresh data sets (seed
   stream 1, disjoint from the screen's) with enough replicates that its test, at Holm's first-step
   level alpha / m_flagged, detects a 0.5-sd shift with 80% probability (at least as many as the
   screen; ``harness.sbc.plan.plan_confirmation``). The screen's ranks are *not* reused: they were
   selected for being extreme. Holm's procedure over the run's confirmation p-values decides: adjusted
   p < alpha is a confirmed ``fail``; otherwise ``pass (flag not confirmed)``. Since confirmation data
   are independent of the screen, the probability that a run wrongly fails any calibrated backend is at
   most alpha.
3. **Power.** Every verdict states the shift (posterior sd, one quantity) it detects with 80%
   probability at its usable replicate count (``harness.sbc.power``). A pass that cannot detect 0.5 sd
   reads ``pass (weak)`` (``pass (weak; flag not confirmed)`` after a confirmation).
4. **Divergence-free diagnostic.** The verdict on divergence-free fits only is a labelled diagnostic
   (``verdict_no_divergent``); the fits it leaves out count as failed fits in its 5% rule.

A model x backend whose model did not compile has no replicate records for the replicates that cost
(``harness.sbc.store.SBCStore.compile_failures``): they count as failed fits, and the row says so once
(``compile_failed`` replicates, ``compile_error``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.catalogue import get_model
from harness.results import write_csv_atomic
from harness.sbc import power, stats
from harness.sbc.plan import SBCPlan, skip_reason
from harness.sbc.ranks import quantity_names
from harness.sbc.store import SBCStore, combo_key

RANK_COLUMNS = ["model", "backend", "stage", "replicate", "quantity", "rank", "n_kept", "status", "divergences",
                "seed", "error"]
SUMMARY_COLUMNS = [
    "model", "backend", "sims", "ok", "failed", "failed_frac", "divergent_frac", "verdict", "verdict_no_divergent",
    "failed_quantities", "coverage_50", "coverage_80", "coverage_95", "chi2_min_p", "reps_per_s", "wall_s",
    "settings", "low_ess", "n_no_divergent", "excluded_frac_no_divergent", "failed_quantities_no_divergent",
    "verdict_reason", "kept", "alpha", "band_prob", "planned_sims",
    # verdicts with stated error rates (see the module docstring)
    "screen_verdict", "p_value", "power_shift", "quantities", "confirm_sims", "confirm_ok", "confirm_failed",
    "confirm_p", "confirm_p_holm", "confirm_power_shift", "confirm_failed_quantities", "holm_family",
    # a model that did not compile: the replicates it cost (counted in sims and failed) and its error, once
    "compile_failed", "compile_error",
    # "prior" or "posterior" SBC (harness.sbc.simulation)
    "method",
    # wall-clock seconds by phase (harness.sbc.timing.breakdown)
    "time_compile_s", "time_simulate_s", "time_fit_s", "time_ranks_s", "time_write_s", "time_other_s",
]


def ranks_frame(records: list[dict]) -> pd.DataFrame:
    """Tidy ranks: one row per replicate x quantity; a replicate without ranks is one row with no quantity."""
    rows = []
    for r in records:
        base = {"model": r["model"], "backend": r["backend"], "stage": r.get("stage", "screen"),
                "replicate": r["replicate"], "status": r["status"],
                "n_kept": r.get("n_kept"), "divergences": r.get("divergences"), "seed": r.get("seed"),
                "error": (r.get("error") or "").split("\n")[0][:300]}
        ranks = r.get("ranks") or {}
        if not ranks:
            rows.append({**base, "quantity": None, "rank": None})
        rows.extend({**base, "quantity": q, "rank": v} for q, v in ranks.items())
    frame = pd.DataFrame(rows, columns=RANK_COLUMNS)
    for col in ("rank", "n_kept", "divergences"):
        frame[col] = frame[col].astype("Int64")
    return frame.sort_values(["model", "backend", "stage", "replicate"], kind="stable").reset_index(drop=True)


@dataclass
class ComboResult:
    """Everything computed for one model x backend: the summary row, per-quantity rows, rank arrays."""

    row: dict
    quantity_rows: list[dict]
    names: list[str]
    ranks_ok: np.ndarray        # (N_ok, Q)
    ranks_clean: np.ndarray     # (N_clean, Q) divergence-free
    prob: float


def _matrix(recs: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[r["ranks"][q] for q in names] for r in recs], dtype=int).reshape(len(recs), len(names))


def summarise_combo(plan: SBCPlan, model: str, backend: str, records: list[dict], timing: dict,
                    confirm_records: list[dict] | None = None, compile_failure: dict | None = None,
                    confirm_compile_failure: dict | None = None) -> ComboResult:
    """The first-stage statistics (and the confirmation's, when there is one) of one model x backend.

    ``compile_failure`` ({"error", "replicates"}): replicates that a failed compile cost, counted as
    failed fits. The final ``verdict`` needs the whole run (Holm over confirmations): ``finalise`` sets it.
    """
    spec = get_model(model)
    names = quantity_names(spec, spec.data())
    lost = int((compile_failure or {}).get("replicates", 0))
    lost_confirm = int((confirm_compile_failure or {}).get("replicates", 0))
    sims = len(records) + lost
    ok = [r for r in records if r["status"] == "ok"]
    clean = [r for r in ok if not r.get("divergences")]
    failed = sims - len(ok)
    ranks_ok, ranks_clean = _matrix(ok, names), _matrix(clean, names)
    a_ok = stats.assess(ranks_ok, names, plan.kept, plan.alpha)
    a_clean = stats.assess(ranks_clean, names, plan.kept, plan.alpha)
    screen, reason = stats.verdict(sims, failed, a_ok)
    # diagnostic only: fits left out for divergences count as failed fits in the 5% rule
    verdict_clean, _ = stats.verdict(sims, sims - len(clean), a_clean)
    wall = timing.get("wall_s", float("nan"))
    run = timing.get("replicates", 0)
    from harness.sbc.timing import breakdown

    phases = breakdown(timing) if timing else {}
    row = {
        "model": model, "backend": backend, "method": plan.method, "sims": sims, "ok": len(ok), "failed": failed,
        "failed_frac": failed / sims if sims else float("nan"),
        "divergent_frac": (len(ok) - len(clean)) / len(ok) if ok else float("nan"),
        "verdict": None, "screen_verdict": {"fail": "flag"}.get(screen, screen),
        "p_value": a_ok.p_value,
        "power_shift": power.verdict_power(len(ok), plan.kept, plan.alpha, len(names)),
        "quantities": len(names),
        "verdict_no_divergent": {"fail": "flag"}.get(verdict_clean, verdict_clean),
        "failed_quantities": ";".join(a_ok.failed_quantities),
        "coverage_50": a_ok.mean_coverage(0.5), "coverage_80": a_ok.mean_coverage(0.8),
        "coverage_95": a_ok.mean_coverage(0.95), "chi2_min_p": a_ok.chi2_min_p,
        "reps_per_s": run / wall if wall and wall > 0 else float("nan"), "wall_s": wall,
        "settings": plan.settings_text(),
        "low_ess": sum(r["status"] == "low_ess" for r in records),
        "n_no_divergent": len(clean),
        "excluded_frac_no_divergent": (sims - len(clean)) / sims if sims else float("nan"),
        "failed_quantities_no_divergent": ";".join(a_clean.failed_quantities),
        "verdict_reason": reason, "kept": plan.kept, "alpha": plan.alpha, "band_prob": a_ok.prob,
        "planned_sims": plan.sims.get(backend),
        "confirm_sims": 0, "confirm_ok": 0, "confirm_failed": 0, "confirm_p": float("nan"),
        "confirm_p_holm": float("nan"), "confirm_power_shift": float("nan"), "confirm_failed_quantities": "",
        "holm_family": 0,
        **{f"time_{k}_s": phases.get(k, float("nan")) for k in ("compile", "simulate", "fit", "ranks", "write", "other")},
        "compile_failed": lost + lost_confirm,
        "compile_error": _first_line((compile_failure or confirm_compile_failure or {}).get("error", "")),
    }
    subsets = [("all_ok", a_ok), ("no_divergent", a_clean)]
    if confirm_records or lost_confirm:
        confirm_records = confirm_records or []
        c_sims = len(confirm_records) + lost_confirm
        c_ok = [r for r in confirm_records if r["status"] == "ok"]
        a_conf = stats.assess(_matrix(c_ok, names), names, plan.kept, plan.alpha)
        c_verdict, c_reason = stats.verdict(c_sims, c_sims - len(c_ok), a_conf)
        row.update(confirm_sims=c_sims, confirm_ok=len(c_ok),
                   confirm_failed=c_sims - len(c_ok),
                   confirm_p=a_conf.p_value if c_verdict != "inconclusive" else float("nan"),
                   confirm_failed_quantities=";".join(a_conf.failed_quantities))
        if c_verdict == "inconclusive":
            row["confirm_reason"] = c_reason
        subsets.append(("confirm", a_conf))
    qrows = []
    for subset, assessment in subsets:
        for q in assessment.quantities:
            qrows.append({"model": model, "backend": backend, "subset": subset, "quantity": q.quantity, "n": q.n,
                          "in_band": q.in_band, "p_value": q.p_value, "max_ecdf_diff": q.max_ecdf_diff,
                          "chi2": q.chi2, "chi2_p": q.chi2_p,
                          **{f"coverage_{int(lvl * 100)}": q.coverage[lvl] for lvl in stats.COVERAGE_LEVELS},
                          "band_prob": assessment.prob})
    return ComboResult(row, qrows, names, ranks_ok, ranks_clean, a_ok.prob)


def skipped_row(plan: SBCPlan, model: str, backend: str, why: str) -> dict:
    """The summary row of a model x backend that runs no replicate: its verdict is the reason
    ("not applicable: ...", "not implemented: ...", "no reference posterior: ...")."""
    row: dict = dict.fromkeys(SUMMARY_COLUMNS, float("nan"))
    row.update(model=model, backend=backend, method=plan.method, sims=0, ok=0, failed=0, verdict=why, screen_verdict="not run",
               verdict_no_divergent="", verdict_reason=why, settings=plan.settings_text(), kept=plan.kept,
               alpha=plan.alpha, planned_sims=plan.sims.get(backend), confirm_sims=0, confirm_ok=0,
               confirm_failed=0, holm_family=0, compile_failed=0, compile_error="", failed_quantities="",
               confirm_failed_quantities="", failed_quantities_no_divergent="")
    return row


def finalise(rows: list[dict], kept: int, alpha: float) -> None:
    """Final verdicts of a run's rows in place: Holm over the confirmations; power; see the module docstring."""
    family = [i for i, r in enumerate(rows)
              if r["screen_verdict"] == "flag" and r["confirm_sims"] and np.isfinite(r["confirm_p"])]
    adjusted = stats.holm([rows[i]["confirm_p"] for i in family])
    m = len(family)
    for i, p in zip(family, adjusted):
        rows[i]["confirm_p_holm"] = p
        rows[i]["holm_family"] = m
        rows[i]["confirm_power_shift"] = power.verdict_power(rows[i]["confirm_ok"], kept, alpha / m,
                                                             rows[i]["quantities"])
    for r in rows:
        screen = r["screen_verdict"]
        if screen == "inconclusive":
            r["verdict"] = "inconclusive"
        elif screen == "pass":
            r["verdict"] = "pass" if power.adequate(r["power_shift"]) else "pass (weak)"
        elif r["confirm_sims"] == 0:
            r["verdict"] = "flagged (not confirmed)"
            r["verdict_reason"] = (f"first-stage p = {r['p_value']:.3g} < {alpha}: rerun with --confirm; "
                                   + (r["verdict_reason"] or ""))
        elif not np.isfinite(r["confirm_p"]):
            r["verdict"] = "flagged (confirmation inconclusive)"
            r["verdict_reason"] = r.get("confirm_reason") or "confirmation inconclusive"
        elif r["confirm_p_holm"] < alpha:
            r["verdict"] = "fail"
            r["verdict_reason"] = (f"confirmed on {r['confirm_ok']} fresh data sets: Holm-adjusted p = "
                                   f"{r['confirm_p_holm']:.3g} < {alpha}; ranks not uniform: "
                                   f"{r['confirm_failed_quantities'].replace(';', ', ') or r['failed_quantities']}")
        else:
            weak = not power.adequate(r["confirm_power_shift"])
            r["verdict"] = "pass (weak; flag not confirmed)" if weak else "pass (flag not confirmed)"
            r["verdict_reason"] = (f"first-stage flag (p = {r['p_value']:.3g}) not confirmed on {r['confirm_ok']} "
                                   f"fresh data sets (p = {r['confirm_p']:.3g}, Holm {r['confirm_p_holm']:.3g})")
        r.pop("confirm_reason", None)


def expected_false_alarms(summary: pd.DataFrame) -> str:
    """What a run of this size should expect if every backend were calibrated."""
    if summary.empty:
        return ""
    alpha = float(summary["alpha"].iloc[0])
    m = int(summary["screen_verdict"].isin(["pass", "flag"]).sum())
    flags = int((summary["screen_verdict"] == "flag").sum())
    confirmed = int((summary["confirm_sims"] > 0).sum())
    return (f"Error control: {m} conclusive combination(s), each screened at alpha = {alpha}; if every backend "
            f"were calibrated this run would expect up to {m * alpha:.2f} first-stage flag(s) "
            f"(P(at least one) <= {1 - (1 - alpha) ** m:.0%}); it has {flags}. Only a flag confirmed on fresh data "
            f"sets (Holm over {confirmed} confirmation(s)) is a final fail: the probability that this run wrongly "
            f"fails any calibrated backend is <= {alpha}.")


def _first_line(text: str) -> str:
    """The error's message: "compile failed: RuntimeError: ..." without the traceback."""
    return (text or "").split("\n")[0][:300]


def _by_combo(records: dict) -> dict:
    out: dict = {}
    for (m, b, _), rec in sorted(records.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        out.setdefault((m, b), []).append(rec)
    return out


def write_outputs(root: Path, figures: bool = True) -> pd.DataFrame:
    """Rebuild ranks.csv, summary.csv, quantities.csv and the figures from the replicate records."""
    store = SBCStore(root)
    plan = SBCPlan.from_dict(store.read_plan())
    timing = store.timing()
    by_combo = _by_combo(store.records())
    confirm_store = SBCStore(root, "confirm")
    by_combo_confirm = _by_combo(confirm_store.records()) if confirm_store.replicates_path.exists() else {}
    failures, confirm_failures = store.compile_failures(), confirm_store.compile_failures()
    all_records = [r for recs in by_combo.values() for r in recs] + [r for recs in by_combo_confirm.values() for r in recs]
    write_csv_atomic(root / "ranks.csv", ranks_frame(all_records))
    results, qrows, skipped = [], [], []
    for model in plan.models:
        for backend in plan.backends:
            key = combo_key(model, backend)
            recs = by_combo.get((model, backend), [])
            if not recs and key not in failures:
                why = skip_reason(plan, model, backend)
                if why:
                    skipped.append(skipped_row(plan, model, backend, why))
                continue
            result = summarise_combo(plan, model, backend, recs, timing.get(key, {}),
                                     by_combo_confirm.get((model, backend)), failures.get(key),
                                     confirm_failures.get(key))
            results.append(result)
            qrows.extend(result.quantity_rows)
    finalise([r.row for r in results], plan.kept, plan.alpha)
    if figures:
        from harness.sbc.plots import combo_figure

        for result in results:
            combo_figure(root / "figures" / f"{result.row['model']}__{result.row['backend']}.png", result, plan.kept)
    summary = pd.DataFrame([r.row for r in results] + skipped, columns=SUMMARY_COLUMNS)
    write_csv_atomic(root / "summary.csv", summary)
    write_csv_atomic(root / "quantities.csv", pd.DataFrame(qrows))
    return summary


def load_summary(root: Path) -> pd.DataFrame:
    return pd.read_csv(Path(root) / "summary.csv", keep_default_na=False, na_values=[""])
