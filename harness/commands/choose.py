"""``python -m harness choose DIR_OR_NAME [--budget MINUTES]``: which backend for this model, and can I trust it.

One command runs the whole answer for one model (a catalogue name, or a model folder made with
``harness new-model``), each step a harness command of its own, in one directory
(``results/choose/<model>-<UTC time>/``):

1. ``reference``: ``harness reference`` with the best available backend, unless the model has one
   (``<model folder>/reference`` for a model of your own);
2. ``run``: ``harness run`` of every installed backend that samples one of the model's families, with
   repeats (``run/``: a run directory like any other, with its equivalence checks and accuracy verdicts);
3. ``sbc``: ``harness sbc`` (``sbc/``), posterior SBC for a model with real data (a data file) and
   prior SBC otherwise, where the model has a simulator; its replicates are sized from the run's
   measured fit times to what is left of the budget (at most each backend's default);
4. ``recommend``: ``harness recommend`` on those directories, printed and kept as ``recommendation.md``.

The budget is shared out as the steps go: the run gets what the reference left, up to 60% of the
budget, and SBC the rest minus a minute for the last step. A step that reaches its share is stopped;
what it measured is kept, and ``--resume DIR`` (with a new ``--budget`` if wanted) continues every
step where it stopped. Each step's output goes to ``choose.log``; the progress bar shows the step and
the time left.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness.errors import HarnessInputError

EXAMPLES = """examples:
  python -m harness choose my_models/school_scores --budget 10
  python -m harness choose eight_schools_noncentered --budget 20
  python -m harness choose --resume results/choose/school_scores-20261206T120000Z --budget 10
"""
STATE_FILE = "choose.json"
RUN_SHARE = 0.6  # of the budget, for reference + run
RECOMMEND_S = 60.0  # kept for the last step


def configure(parser) -> None:
    from harness.cli_options import add_catalogue_argument

    parser.add_argument("model", nargs="?", metavar="DIR_OR_NAME",
                        help="a model folder (with model.py) or a catalogue model name")
    parser.add_argument("--budget", type=float, default=20.0, help="minutes for the whole answer")
    parser.add_argument("--backends", help="comma-separated backends (default: every installed backend that samples "
                                           "one of the model's families)")
    parser.add_argument("--repeats", type=int, default=3, help="independent runs of every backend")
    parser.add_argument("--chains", type=int, default=4, help="chains per fit")
    parser.add_argument("--warmup", type=int, default=1000, help="warm-up iterations per chain")
    parser.add_argument("--draws", type=int, default=1000, help="kept iterations per chain")
    parser.add_argument("--cores", type=int, default=1, help="core budget per fit")
    parser.add_argument("--seed", type=int, default=0, help="root seed of every step")
    parser.add_argument("--reference-ess", type=int, default=None,
                        help="min bulk ESS of a reference made here (default: harness reference's)")
    parser.add_argument("--sims", type=int, default=None,
                        help="SBC replicates per backend (default: what fits the budget, at most each backend's "
                             "default)")
    parser.add_argument("--sbc-warmup", type=int, default=None, help="SBC warm-up per fit (default: harness sbc's)")
    parser.add_argument("--sbc-draws", type=int, default=None, help="SBC draws per fit (default: harness sbc's)")
    parser.add_argument("--out", type=Path, help="directory (default: results/choose/<model>-<UTC time>)")
    parser.add_argument("--resume", type=Path, metavar="DIR", help="continue the choose run in DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_catalogue_argument(parser)
    parser.epilog = EXAMPLES


# ---------------------------------------------------------------- model and plan


def resolve_model(text: str) -> tuple[str, str | None]:
    """(model name, its catalogue folder or None for a built-in model) of DIR_OR_NAME."""
    from harness.catalogue import add_catalogue, get_model, model_names

    path = Path(text)
    if path.is_dir():
        if not (path / "model.py").is_file():
            raise HarnessInputError(f"{path} is a folder without a model.py; make one with: python -m harness "
                                    f"new-model NAME --from FILE --data DATA --out {path.parent}")
        add_catalogue(path)
        name = path.resolve().name
        get_model(name)  # the declaration's own errors
        return name, str(path.resolve())
    if text not in model_names():
        raise HarnessInputError(f"{text!r} is neither a model folder nor a catalogue model; valid models: "
                                f"{', '.join(model_names())}")
    return text, None


def compatible_backends(model: str, named: str | None) -> list[str]:
    """Installed backends that sample one of the model's families (or the named ones, checked)."""
    from harness.backends import REGISTRY, capabilities, default_backends, get_backend, validate_backends
    from harness.catalogue import families_present

    present = set(families_present(model))
    if named:
        backends = [b.strip() for b in named.split(",") if b.strip()]
        validate_backends(backends)
        for b in backends:
            get_backend(b)
        return backends
    from harness.backends import unavailable_reason

    found = [b for b in REGISTRY if b in default_backends() and capabilities(b).family in present
             and not unavailable_reason(b)]
    if not found:
        raise HarnessInputError(f"no installed backend samples the families of {model!r} ({', '.join(sorted(present))}); "
                                "python -m harness list shows the backends and their extras")
    return found


def sbc_method(model: str) -> tuple[str | None, str]:
    """(method, why): posterior SBC for a model with real data, prior SBC otherwise, None when neither applies."""
    from harness.catalogue import get_model
    from harness.sbc.simulation import not_applicable

    spec = get_model(model)
    order = ("posterior", "prior") if spec.data_file else ("prior", "posterior")
    reasons = {}
    for method in order:
        reasons[method] = not_applicable(spec, method)
        if reasons[method] is None:
            why = "the model has real data (a data file)" if method == "posterior" and spec.data_file else \
                "the model simulates its data" if method == "prior" else "prior SBC does not apply"
            return method, why
    return None, "; ".join(f"{m} SBC {r}" for m, r in reasons.items())


def sbc_replicates(rates: dict[str, float], backends: list[str], seconds: float, cap: dict[str, int],
                   have: dict[str, int]) -> dict[str, int]:
    """Replicates per backend (stored ones included) that fit ``seconds`` more, from measured rates
    (replicates per second of the pilot); every backend gets the same share of the time."""
    share = max(0.0, seconds) / max(1, len(backends))
    return {b: int(min(cap[b], have.get(b, 0) + share * rates.get(b, 0.0))) for b in backends}


def measured_rates(sbc_dir: Path) -> tuple[dict[str, float], dict[str, int]]:
    """({backend: replicates per second}, {backend: stored replicates}) of an SBC directory."""
    from harness.sbc.store import SBCStore

    store = SBCStore(sbc_dir)
    rates = {}
    for key, t in store.timing().items():
        if key.startswith("_"):
            continue
        backend = key.split("__", 1)[1]
        if t.get("wall_s"):
            rates[backend] = t["replicates"] / t["wall_s"]
    have: dict[str, int] = {}
    for (_, backend, _), _rec in store.records().items():
        have[backend] = have.get(backend, 0) + 1
    return rates, have


# ---------------------------------------------------------------- steps


class Progress:
    """A bar of the budget's seconds, advanced by a clock thread; the description is the current step."""

    def __init__(self, budget_s: float, enabled: bool):
        from tqdm import tqdm

        self.start = time.monotonic()
        self.bar = tqdm(total=int(budget_s), disable=not enabled, unit="s", dynamic_ncols=True, file=sys.stderr,
                        bar_format="{desc}: {bar} {n_fmt}/{total_fmt} s of the budget, {postfix}")
        self.bar.set_postfix_str(self._left(budget_s))
        self.budget_s = budget_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()

    def _left(self, budget_s: float) -> str:
        left = budget_s - (time.monotonic() - self.start)
        return f"{left / 60:.1f} min left" if left >= 0 else f"{-left / 60:.1f} min over"

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            elapsed = int(time.monotonic() - self.start)
            self.bar.n = min(elapsed, self.bar.total)
            self.bar.set_postfix_str(self._left(self.budget_s), refresh=False)
            self.bar.refresh()

    def step(self, text: str) -> None:
        self.bar.set_description_str(text)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.bar.close()


def harness_step(argv: list[str], log_path: Path, deadline: float | None) -> tuple[int, float, bool]:
    """Run ``python -m harness <argv>`` with its output appended to the log; (exit code, seconds, stopped
    at the deadline). Stopping sends SIGTERM (every command stores what it measured), then SIGKILL."""
    from harness.isolation import kill_group, start_isolated

    start = time.monotonic()
    with open(log_path, "a") as log:
        log.write(f"\n$ python -m harness {' '.join(argv)}\n")
        log.flush()
        proc = start_isolated([sys.executable, "-m", "harness", *argv], stdout=log, stdin=subprocess.DEVNULL)
        stopped = False
        while proc.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                stopped = True
                import signal

                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=30)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    kill_group(proc)
                break
            time.sleep(0.5)
        code = proc.wait()
        kill_group(proc)  # helpers it left behind
    return code, time.monotonic() - start, stopped


def _state(out: Path) -> dict:
    path = out / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _save(out: Path, state: dict) -> None:
    from harness.results import write_json_atomic

    write_json_atomic(out / STATE_FILE, state)


def _catalogue_args(state: dict) -> list[str]:
    return ["--catalogue", state["catalogue"]] if state.get("catalogue") else []


def command(args) -> int:
    from harness.cli_options import apply_catalogues
    from harness.paths import results_root, utc_stamp

    apply_catalogues(args)
    if args.budget <= 0:
        raise HarnessInputError(f"--budget must be positive minutes, got {args.budget}")
    if args.resume:
        out = args.resume
        state = _state(out)
        if not state:
            raise HarnessInputError(f"--resume {out}: not a choose directory (no {STATE_FILE})")
        if state.get("catalogue"):
            from harness.catalogue import add_catalogue

            add_catalogue(state["catalogue"])
    else:
        if not args.model:
            raise HarnessInputError("name a model folder or catalogue model (DIR_OR_NAME), or --resume DIR")
        model, catalogue = resolve_model(args.model)
        backends = compatible_backends(model, args.backends)
        method, why = sbc_method(model)
        out = args.out or results_root() / "choose" / f"{model}-{utc_stamp()}"
        if (out / STATE_FILE).is_file():
            raise HarnessInputError(f"{out} holds a choose run already; continue it with --resume {out}")
        state = {"model": model, "catalogue": catalogue, "backends": backends, "sbc_method": method,
                 "sbc_method_reason": why, "settings": {k: getattr(args, k) for k in (
                     "repeats", "chains", "warmup", "draws", "cores", "seed", "reference_ess", "sims",
                     "sbc_warmup", "sbc_draws")}, "steps": {}}
        out.mkdir(parents=True, exist_ok=True)
        _save(out, state)
    return _choose(out, state, args.budget * 60.0, not args.no_progress)


def _choose(out: Path, state: dict, budget_s: float, progress_bar: bool) -> int:
    from harness.catalogue import get_model, models_option, reference_dir

    model, s = state["model"], state["settings"]
    log = out / "choose.log"
    steps = state["steps"]
    models = models_option(model).split() if state.get("catalogue") else ["--models", model]
    print(f"choose {model}: backends {', '.join(state['backends'])}; SBC: "
          f"{state['sbc_method'] + ' (' + state['sbc_method_reason'] + ')' if state['sbc_method'] else state['sbc_method_reason']}; "
          f"budget {budget_s / 60:.0f} min; directory {out} (log: {log})", file=sys.stderr, flush=True)
    progress = Progress(budget_s, progress_bar)
    start = time.monotonic()
    try:
        # 1. reference
        spec = get_model(model)
        have_reference = (reference_dir(model) / "summary.csv").is_file() or (reference_dir(model) / "REASON.md").is_file()
        if not have_reference and not steps.get("reference", {}).get("done"):
            progress.step("reference")
            argv = ["reference", *models, "--seed", str(s["seed"])]
            if s.get("reference_ess"):
                ess = int(s["reference_ess"])
                argv += ["--ess-target", str(ess), "--thinned", str(min(ess, 10_000)),
                         "--draws", str(max(200, min(2000, math.ceil(1.5 * ess / 10))))]
            code, seconds, stopped = harness_step(argv, log, start + RUN_SHARE * budget_s)
            steps["reference"] = {"done": code == 0 and not stopped, "seconds": seconds, "exit_code": code}
            _save(out, state)
        # 2. runs
        run_dir = out / "run"
        if not steps.get("run", {}).get("done"):
            progress.step("run")
            if (run_dir / "manifest.json").is_file():
                argv = ["run", "--resume", str(run_dir), "--no-progress", *_catalogue_args(state)]
            else:
                argv = ["run", *models, "--backends", ",".join(state["backends"]), "--repeats", str(s["repeats"]),
                        "--chains", str(s["chains"]), "--warmup", str(s["warmup"]), "--draws", str(s["draws"]),
                        "--cores", str(s["cores"]), "--seed", str(s["seed"]), "--out", str(run_dir), "--no-progress"]
            code, seconds, stopped = harness_step(argv, log, start + RUN_SHARE * budget_s)
            steps["run"] = {"done": code == 0 and not stopped, "seconds": steps.get("run", {}).get("seconds", 0) + seconds,
                            "exit_code": code, "stopped_at_budget": stopped}
            _save(out, state)
        if (reference_dir(model) / "summary.csv").is_file() and run_dir.is_dir():
            harness_step(["reference", "--score", str(run_dir), *_catalogue_args(state)], log, None)
        # 3. SBC: a pilot of PILOT_REPLICATES per backend measures the rate, then the rest of the budget
        sbc_dir = out / "sbc"
        method = state.get("sbc_method")
        if method and not steps.get("sbc", {}).get("done"):
            progress.step(f"{method} SBC")
            steps["sbc"] = _sbc(state, sbc_dir, models, log, start + budget_s - RECOMMEND_S)
            _save(out, state)
        # 4. recommendation
        progress.step("recommend")
        argv = ["recommend", "--model", model, "--results", str(run_dir), *_catalogue_args(state)]
        if (sbc_dir / "summary.csv").is_file():
            argv += ["--sbc", str(sbc_dir)]
        proc = subprocess.run([sys.executable, "-m", "harness", *argv], capture_output=True, text=True)
    finally:
        progress.close()
    text = proc.stdout + (f"\n{proc.stderr}" if proc.returncode else "")
    notes = _notes(state, out, spec)
    (out / "recommendation.md").write_text(text + ("\n" + "\n".join(notes) + "\n" if notes else ""))
    print(text)
    for note in notes:
        print(note)
    print(f"\nchoose directory: {out} (runs: {run_dir}; report: python -m harness report {run_dir})")
    return proc.returncode


PILOT_REPLICATES = 10


def _sbc(state: dict, sbc_dir: Path, models: list[str], log: Path, deadline: float) -> dict:
    """The SBC step: a pilot (or the stored replicates), then as many more replicates as the time to
    ``deadline`` allows, up to each backend's default; {"done", "seconds", "sims", ...} for the state."""
    from harness.backends import capabilities
    from harness.sbc.plan import SBC_DRAWS, SBC_WARMUP

    s = state["settings"]
    backends = state["backends"]
    cap = {b: int(s["sims"]) if s.get("sims") else capabilities(b).sbc_replicates for b in backends}
    seconds = 0.0
    if not (sbc_dir / "sbc.json").is_file():
        pilot = {b: min(PILOT_REPLICATES, cap[b]) for b in backends}
        argv = ["sbc", *models, "--method", state["sbc_method"], "--backends", ",".join(backends),
                "--sims", ",".join(f"{b}={n}" for b, n in pilot.items()),
                "--warmup", str(s.get("sbc_warmup") or SBC_WARMUP), "--draws", str(s.get("sbc_draws") or SBC_DRAWS),
                "--seed", str(s["seed"]), "--out", str(sbc_dir), "--no-progress", "--no-figures"]
        code, took, stopped = harness_step(argv, log, deadline)
        seconds += took
        if stopped or code != 0:
            return {"done": False, "seconds": seconds, "exit_code": code, "stopped_at_budget": stopped}
    rates, have = measured_rates(sbc_dir)
    sims = sbc_replicates(rates, backends, deadline - time.monotonic(), cap, have)
    more = {b: n for b, n in sims.items() if n > have.get(b, 0)}
    code, stopped = 0, False
    if more:
        argv = ["sbc", "--resume", str(sbc_dir), "--no-progress", "--no-figures",
                "--sims", ",".join(f"{b}={n}" for b, n in more.items())]
        code, took, stopped = harness_step(argv, log, deadline)
        seconds += took
    rates, have = measured_rates(sbc_dir)
    short = {b: cap[b] - have.get(b, 0) for b in backends if have.get(b, 0) < cap[b]}
    return {"done": code == 0 and not stopped and not short, "seconds": seconds, "exit_code": code,
            "stopped_at_budget": stopped or bool(short), "sims": have, "planned": cap}


def _notes(state: dict, out: Path, spec) -> list[str]:
    """What the choose run did not do, and how to finish it."""
    notes = []
    steps = state["steps"]
    resume = f"python -m harness choose --resume {out} --budget <minutes>"
    if steps.get("run", {}).get("stopped_at_budget"):
        notes.append(f"- The runs reached their share of the budget; some cells did not run. Continue: {resume}")
    sbc = steps.get("sbc", {})
    if not state.get("sbc_method"):
        notes.append(f"- No SBC: {state['sbc_method_reason']}.")
    elif sbc.get("stopped_at_budget"):
        done = ", ".join(f"{b} {n}" for b, n in sbc.get("sims", {}).items()) or "none"
        planned = ", ".join(f"{b} {n}" for b, n in sbc.get("planned", {}).items())
        notes.append(f"- SBC replicates within the budget: {done} (of {planned}). Continue: {resume}")
    if state.get("sbc_method") == "posterior":
        notes.append("- SBC here is posterior SBC: truths drawn from the reference posterior, fits on the observed "
                     "data plus a replicate; it checks calibration where this data set puts the posterior.")
    return notes
