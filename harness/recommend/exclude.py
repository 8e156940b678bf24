"""The rules: why a backend is excluded for a model, which evidence it still lacks, and what a model
itself says (every backend diverges). Each rule is a small function of the stored evidence."""

from __future__ import annotations

import math

import pandas as pd

from harness.diagnostics import ESS_MIN, RHAT_MAX
from harness.stats import higher_by_units, holm, rate_interval
from harness.verdicts import QUALIFYING_SBC, first_line

MIN_REPEATS = 3
# divergences, judged against the model and the other backends (docs/recommend.md states the error rates)
DIVERGENCE_LIMIT = 0.01  # a backend whose rate is above 1% of kept draws (the whole 95% interval) is excluded ...
DIVERGENCE_ALPHA = 0.05  # ... unless every backend is; one clearly worse than the best is excluded either way:
DIVERGENCE_RATIO = 2.0   # at least twice the best backend's rate and higher chain by chain (Mann-Whitney, Holm, 0.05)
DIVERGENCE_FLOOR = 0.001  # ... and the whole 95% interval above 0.1% of draws: a handful in 10,000 is not a reason


def failed_runs(mine: pd.DataFrame) -> list[str]:
    bad = mine[mine["status"] != "ok"]
    if bad.empty:
        return []
    counts = ", ".join(f"{s} {n}/{len(mine)}" for s, n in bad["status"].value_counts().items())
    return [f"{counts} runs: {first_line(bad.iloc[0]['error'], 120) or bad.iloc[0]['status']}"]


def equivalence(verdicts: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(exclusions, missing evidence) from a backend's equivalence verdicts over the runs."""
    failing = [d for v, d in verdicts if v == "fail"]
    if failing:
        return [f"equivalence fail: {failing[0]}"], []
    if not verdicts or all(v in ("skipped",) for v, _ in verdicts):
        return [], ["no equivalence check"]
    return [], []


def accuracy(pooled: dict | None, ok: pd.DataFrame) -> tuple[str, list[str], list[str], list[str]]:
    """(verdict, exclusions, warnings, missing evidence): the repeats' pooled verdict (``harness.accuracy``)
    where stored, else the worst per-repeat verdict."""
    from harness.verdicts import worst_accuracy

    if pooled:
        verdict, where = pooled["accuracy"], (f": {pooled.get('accuracy_worst')} z = "
                                              f"{float(pooled.get('accuracy_z', math.nan)):.2f}"
                                              if pooled.get("accuracy_worst") else "")
        count = f"{pooled.get('accuracy_repeats', len(ok))} runs pooled"
        note = pooled.get("accuracy_note", "")
    elif "accuracy" in ok and not ok["accuracy"].isna().all():
        values = ok["accuracy"].fillna("no reference").astype(str)
        verdict = worst_accuracy(values)
        pick = ok[values == verdict].iloc[0]
        where = (f": {pick.get('accuracy_worst')} z = {float(pick.get('accuracy_z', math.nan)):.2f}"
                 if isinstance(pick.get("accuracy_worst"), str) and pick.get("accuracy_worst") else "")
        count = f"{int((values == verdict).sum())}/{len(values)} runs"
        note = str(pick.get("accuracy_note", "") or "")
    else:
        return "", [], [], ["no accuracy verdict in the runs"]
    if verdict == "FAIL":
        return verdict, [f"accuracy FAIL against the reference posterior ({count}{where})"], [], []
    if verdict == "REVIEW":
        return verdict, [], [f"accuracy REVIEW ({count}{where})"], []
    if verdict == "low ESS":
        return verdict, [], [], [f"accuracy not tested: ESS too low ({count}); run longer (--draws)"]
    if verdict == "no reference":
        if "REASON.md" in str(note):
            return verdict, [], ["accuracy: no valid reference can be made for this model (REASON.md)"], []
        return verdict, [], [], ["no reference posterior"]
    return verdict, [], [], []


def sbc_status(row) -> tuple[str, str]:
    """(verdict under the current rules, why it does not qualify or ""), also for summaries written
    before verdicts stated power and confirmation (their "fail" was an unconfirmed flag)."""
    from harness.sbc import power

    def get(key, default=None):
        v = row.get(key, default)
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else v

    verdict = str(get("verdict", "inconclusive")).strip().lower()
    if get("screen_verdict") is None:  # a summary from before stated power and confirmation
        n = int(get("ok", get("sims", 0)) or 0)
        alpha, band = float(get("alpha", 0.05)), get("band_prob")
        q = int(round(alpha / (1.0 - float(band)))) if band is not None and float(band) < 1 else None
        shift = power.verdict_power(n, int(get("kept", 39)), alpha, q) if q else math.nan
        if verdict == "fail":
            verdict = "flagged (not confirmed)"
        elif verdict == "pass":
            verdict = "pass" if power.adequate(shift) else "pass (weak)"
        row = {**dict(row), "power_shift": shift}
    if verdict in QUALIFYING_SBC or verdict.startswith("not applicable"):
        return verdict, ""
    fq = get("failed_quantities", "")
    fq = f" ({fq})" if str(fq).strip() else ""
    why = get("verdict_reason", "")
    if verdict.startswith("pass (weak"):
        shift = get("power_shift", math.nan) if "flag" not in verdict else get("confirm_power_shift", math.nan)
        n = get("ok", get("sims", "?")) if "flag" not in verdict else get("confirm_ok", "?")
        detail = (f"detects a shift of {float(shift):.2f} posterior sd with 80% power at {n} replicates"
                  if shift is not None and math.isfinite(float(shift)) else "power unknown")
        return verdict, f"SBC {verdict}: not yet validated ({detail}; needs 0.5 sd: run more replicates)"
    if verdict.startswith("flagged"):
        return verdict, f"SBC {verdict}{fq}: rerun with `python -m harness sbc --confirm`"
    return verdict, f"SBC {verdict}{fq}" + (f": {why}" if isinstance(why, str) and why.strip() else "")


def sbc(row, not_applicable: str | None) -> tuple[str, list[str], list[str]]:
    """(verdict, exclusions, missing evidence) from a backend's SBC row (None: no SBC result)."""
    if not_applicable:
        return not_applicable, [], []
    if row is None:
        return "", [], ["no SBC"]
    if str(row.get("screen_verdict", "")) == "not run":  # the SBC run ran no replicate of it, and says why
        verdict = str(row.get("verdict", ""))
        return verdict, [], [f"no SBC ({verdict})"]
    verdict, why = sbc_status(row)
    if not why:
        return verdict, [], []
    if verdict.startswith("pass (weak") or verdict.startswith("inconclusive") or verdict.startswith("flagged"):
        return verdict, [], [why]
    return verdict, [why], []


def diagnostics(ok: pd.DataFrame) -> list[str]:
    """Convergence: median max R-hat (runs with more than one chain) and median min bulk ESS."""
    reasons = []
    chains = pd.to_numeric(ok.get("chains", pd.Series(2, index=ok.index)), errors="coerce").fillna(2)
    rhat = pd.to_numeric(ok["rhat_max"], errors="coerce")[chains > 1].dropna()
    if len(rhat) and float(rhat.median()) > RHAT_MAX:
        reasons.append(f"R-hat: median max R-hat {float(rhat.median()):.3f} > {RHAT_MAX}")
    ess = pd.to_numeric(ok["ess_bulk_min"], errors="coerce")
    if ess.isna().all() or float(ess.median()) < ESS_MIN:
        reasons.append(f"low ESS: median min bulk ESS {ess.median():.0f} < {ESS_MIN}")
    return reasons


def rate_text(events: int, trials: int) -> str:
    lo, hi = rate_interval(events, trials)
    return f"{events / trials:.2%} ({lo:.2%}-{hi:.2%})" if trials else "-"


def divergences(counts: dict[str, tuple[int, int]], units: dict[str, list[float]] | None = None
                ) -> tuple[dict[str, str], str | None]:
    """({backend: why it is excluded}, a note about the model) from {backend: (divergent, kept draws)} and
    {backend: divergence rates of its chains (or runs)} (``harness.run.summary.divergence_units``).

    * every backend's whole 95% interval above ``DIVERGENCE_LIMIT``: a property of the model ("every
      backend diverges: reparameterise"), not an exclusion by itself;
    * otherwise a backend whose interval lies above the limit is excluded;
    * in both cases a backend that diverges clearly more often than the best backend is excluded: at
      least ``DIVERGENCE_RATIO`` times its rate, significantly higher chain by chain (one-sided
      Mann-Whitney test of the chains' rates, Holm over the backends at ``DIVERGENCE_ALPHA``: divergences
      cluster within chains, so the draws are not independent trials; a backend without units is one
      unit, which never reaches significance), and with its whole 95% interval above
      ``DIVERGENCE_FLOOR`` (a practical floor: 6 divergences in 12,000 draws against none is
      significant but changes no answer).
    """
    counts = {b: c for b, c in counts.items() if c[1] > 0}
    if not counts:
        return {}, None
    rates = {b: e / n for b, (e, n) in counts.items()}
    low = {b: rate_interval(*c)[0] for b, c in counts.items()}
    best = min(rates, key=lambda b: rates[b])
    everyone = len(counts) > 1 and all(lo > DIVERGENCE_LIMIT for lo in low.values())
    out: dict[str, str] = {}
    others = [b for b in counts if b != best]
    units = units or {}
    per = {b: units.get(b) or [e / n] for b, (e, n) in counts.items()}
    p = holm([higher_by_units(per[b], per[best]) for b in others])
    for b, p_adj in zip(others, p):
        if p_adj < DIVERGENCE_ALPHA and rates[b] >= DIVERGENCE_RATIO * rates[best] and low[b] > DIVERGENCE_FLOOR:
            out[b] = (f"divergences: {rate_text(*counts[b])} of draws, clearly more than {best}'s "
                      f"{rate_text(*counts[best])} (chains {len(per[b])} vs {len(per[best])}, "
                      f"Mann-Whitney p = {p_adj:.2g}, Holm)")
    if not everyone:
        for b, lo in low.items():
            if lo > DIVERGENCE_LIMIT and b not in out:
                out[b] = f"divergences: {rate_text(*counts[b])} of draws, above the {DIVERGENCE_LIMIT:.0%} limit"
    note = None
    if everyone:
        note = (f"every backend diverges ({min(rates.values()):.1%}-{max(rates.values()):.1%} of draws): "
                "a property of the model, not of a backend; reparameterise it (e.g. non-centred) before comparing")
    return out, note


def completion_commands(model: str, backend: str, missing: list[str], sbc_dir: str | None = None) -> list[str]:
    """The commands that would complete a backend's evidence."""
    from harness.catalogue import get_model, model_names, models_option
    from harness.sbc.simulation import not_applicable

    known = model in model_names()
    models = models_option(model) if known else f"--models {model}"
    method = "" if not known or not_applicable(get_model(model), "prior") is None else " --method posterior"
    out = []
    for item in missing:
        if item.startswith("too few repeats") or item == "no equivalence check":
            out.append(f"python -m harness run {models} --backends {backend} --repeats {MIN_REPEATS}")
        elif item == "no reference posterior":
            out.append(f"python -m harness reference {models}")
        elif item.startswith("no SBC"):
            out.append(f"python -m harness sbc {models} --backends {backend}{method}")
        elif item.startswith("SBC"):
            resume = f" --resume {sbc_dir}" if sbc_dir else ""
            out.append(f"python -m harness sbc {models} --backends {backend} --confirm{resume}")
    return list(dict.fromkeys(out))
