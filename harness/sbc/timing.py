"""Where an SBC run's time goes: per model x backend, per worker, and one line for the whole run.

``timing.json`` holds, per ``model__backend``: ``wall_s`` and ``replicates`` (the driver's clock over
every session), ``phases`` (worker seconds summed over replicates: ``compile_s``, ``simulate_s``,
``fit_s`` (the sampler's calls), ``rank_s`` (thinning, test quantities and ranks), and the driver's
``write_s``), and ``workers`` ({worker: the same phases and ``busy_s``}). ``_sessions`` lists each
session's ``wall_s``, ``cluster_start_s`` and ``workers``.

Wall-clock attribution (``breakdown``): workers run in parallel, so a phase's worker seconds are
divided by the workers that ran the combination; start-up (the cluster) and writing are the driver's
own seconds; "other" is what is left of the wall time: waiting for a free worker, Dask's scheduling
and the tail when one worker idles while the other finishes. Per worker, idle = the combination's wall
time minus that worker's busy seconds.
"""

from __future__ import annotations

PHASES = ("compile_s", "simulate_s", "fit_s", "rank_s")
NAMES = {"compile_s": "compile", "simulate_s": "simulate", "fit_s": "fit", "rank_s": "ranks"}
RECORD_FIELDS = {"compile_s": "compile_s", "simulate_s": "simulate_s", "fit_s": "fit_wall_s", "rank_s": "rank_s"}


def add(entry: dict, records: list[dict], write_s: float) -> None:
    """Add the phases of ``records`` (one finished task) and the driver's write time to a combo entry."""
    phases = entry.setdefault("phases", dict.fromkeys((*PHASES, "write_s"), 0.0))
    workers = entry.setdefault("workers", {})
    for rec in records:
        worker = workers.setdefault(str(rec.get("worker", "?")), {**dict.fromkeys((*PHASES, "busy_s"), 0.0),
                                                                  "replicates": 0})
        for phase, field in RECORD_FIELDS.items():
            value = float(rec.get(field) or 0.0)
            phases[phase] += value
            worker[phase] += value
        worker["busy_s"] += float(rec.get("wall_s") or 0.0)
        worker["replicates"] += 1
    phases["write_s"] += float(write_s)


def breakdown(entry: dict) -> dict:
    """Wall-clock seconds of one combination by phase: compile, simulate, fit, ranks, write, other."""
    wall = float(entry.get("wall_s", 0.0))
    phases = entry.get("phases", {})
    n = max(1, len(entry.get("workers", {})))
    out: dict = {NAMES[p]: float(phases.get(p, 0.0)) / n for p in PHASES}
    out["write"] = float(phases.get("write_s", 0.0))
    out["other"] = max(0.0, wall - sum(out.values()))
    out["wall"] = wall
    out["idle"] = {w: max(0.0, wall - float(v.get("busy_s", 0.0))) for w, v in entry.get("workers", {}).items()}
    return out


def combos(timing: dict) -> dict[str, dict]:
    """The ``model__backend`` entries (leaving out ``_sessions``)."""
    return {k: v for k, v in timing.items() if not k.startswith("_")}


def run_breakdown(timing: dict) -> dict:
    """The whole run (every session) by phase, in wall-clock seconds; ``start-up`` is the clusters'."""
    sessions = timing.get("_sessions", [])
    parts = [breakdown(e) for e in combos(timing).values()]
    out = {p: sum(b[p] for b in parts) for p in ("compile", "simulate", "fit", "ranks", "write")}
    out["start-up"] = sum(float(s.get("cluster_start_s", 0.0)) for s in sessions)
    wall = sum(float(s.get("wall_s", 0.0)) for s in sessions) or sum(b["wall"] for b in parts) + out["start-up"]
    out["other"] = max(0.0, wall - sum(out.values()))
    out["wall"] = wall
    out["replicates"] = sum(int(e.get("replicates", 0)) for e in combos(timing).values())
    return out


def one_line(timing: dict) -> str:
    """'1000 replicates in 41 s: compile 9 s, fit 18 s, ranks 8 s, start-up 4 s, other 2 s'."""
    b = run_breakdown(timing)
    parts = [(name, b[key]) for name, key in (("compile", "compile"), ("fit", "fit"), ("ranks", "ranks"),
                                               ("simulate", "simulate"), ("write", "write"),
                                               ("start-up", "start-up"), ("other", "other"))]
    text = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts if seconds >= 0.05)
    return f"{b['replicates']} replicates in {b['wall']:.1f} s: {text}"
