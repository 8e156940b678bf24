"""``python -m harness gpu-check --out DIR [--smoke]``: the GPU machine's measurements in one command.

Parts, in order on the GPU lane (the CPU side of each part runs beside it, see ``harness.gpu.lanes``):
the GPU test suite, the CPU/GPU crossover of ``logistic_regression`` over N, vectorised chains
scaling, SBC throughput. Sizes and the time budget are in ``harness.gpu.plan``; ``--smoke`` runs the
same code at tiny sizes (on a machine without a GPU, every GPU cell is recorded as ``skipped``).

Exit status: 0 when every job ran or was skipped/timed out by design; 1 when the GPU test suite
failed or any cell or SBC batch ended ``failed`` or ``crashed`` (so CI notices a broken path).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from harness import provenance
from harness.gpu import plan as plans
from harness.gpu import select as selection
from harness.gpu.lanes import preskip, run_lanes
from harness.gpu.parts import (
    CellPart,
    chains_jobs,
    crossover_jobs,
    pytest_command,
    sbc_jobs,
    tests_job,
)
from harness.gpu.probe import probe_in_subprocess
from harness.gpu.summary import write_summary
from harness.paths import results_root, stamped
from harness.results import write_json_atomic
from harness.settings import SettingsError

BAD_STATUSES = ("failed", "crashed")


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_cpu_lanes(cores: int) -> int:
    """CPU cells at once beside the GPU lane: what fits next to it, at most 4 (memory bandwidth)."""
    return max(1, min(4, (_usable_cpus() - cores) // max(cores, 1)))


def configure(parser) -> None:
    parser.add_argument("--out", type=Path, help="output directory (default: results/gpu-check/<UTC time>)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, same code paths (CI; on a machine without a GPU the GPU cells are skipped)")
    parser.add_argument("--budget-s", type=float, help="time budget of the whole check (default 480; smoke 240)")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell before it is killed (default 120; smoke 90)")
    parser.add_argument("--cores", type=int, default=1, help="core budget of every cell, CPU and GPU alike (default 1)")
    parser.add_argument("--cpu-lanes", type=int, help="CPU cells run at once beside the GPU lane (default: fits the machine, <= 4)")
    parser.add_argument("--serial", action="store_true", help="one job at a time (quietest timings, longest run)")
    parser.add_argument("--parts", default=",".join(plans.PARTS), help=f"comma-separated subset of {','.join(plans.PARTS)}")
    parser.add_argument("--backends", help="comma-separated subset of the backends each part selects by capability")
    parser.add_argument("--warmup", type=int, help="warm-up iterations of crossover and chains cells (default 200; smoke 30)")
    parser.add_argument("--draws", type=int, help="kept iterations of crossover and chains cells (default 200; smoke 30)")
    parser.add_argument("--seed", type=int, default=0, help="root seed")
    parser.add_argument("--no-progress", action="store_true", help="no line per finished job on stderr")


def build_plan(args) -> plans.CheckPlan:
    overrides = {"parts": tuple(p.strip() for p in args.parts.split(",") if p.strip()), "cores": args.cores,
                 "root_seed": args.seed}
    for arg, key in (("budget_s", "budget_s"), ("cell_timeout", "cell_timeout_s"), ("warmup", "warmup"), ("draws", "draws")):
        if getattr(args, arg) is not None:
            overrides[key] = getattr(args, arg)
    plan = plans.smoke_plan(**overrides) if args.smoke else plans.full_plan(**overrides)
    plans.validate(plan)
    return plan


def command_line(args, out: Path) -> list[str]:
    """The command as typed (``python -m harness gpu-check ...``), or rebuilt from ``args`` when called in-process."""
    if "gpu-check" in sys.argv:
        return ["python", "-m", "harness", *sys.argv[sys.argv.index("gpu-check"):]]
    cmd = ["python", "-m", "harness", "gpu-check", "--out", str(out)]
    for flag in ("smoke", "serial", "no_progress"):
        if getattr(args, flag, False):
            cmd.append("--" + flag.replace("_", "-"))
    for key in ("budget_s", "cell_timeout", "cores", "cpu_lanes", "parts", "backends", "warmup", "draws", "seed"):
        value = getattr(args, key, None)
        if value is not None:
            cmd += ["--" + key.replace("_", "-"), str(value)]
    return cmd


def equivalent_commands(plan: plans.CheckPlan, chosen: dict, test_cmd: list[str]) -> list[str]:
    """Commands that rerun one piece by hand (the pytest run and the runner cells)."""
    out = []
    if "tests" in plan.parts:
        out.append(" ".join(["python", *test_cmd[1:]]))
    common = f"--warmup {plan.warmup} --draws {plan.draws} --cores {plan.cores} --timeout {plan.cell_timeout_s:.0f} --no-equivalence"
    if "crossover" in plan.parts and chosen["crossover"].run:
        sizes = " ".join(f"--size N={s['N']}" for s in plan.crossover_sizes)
        for device in plan.devices:
            out.append(f"python -m harness run --models {plan.crossover_model} --backends {','.join(chosen['crossover'].run)} "
                       f"{sizes} --chains {plan.chains} {common} --device {device}")
    if "chains" in plan.parts and chosen["chains"].run:
        for device in plan.devices:
            for chains in plan.chain_counts:
                out.append(f"python -m harness run --models {plan.chains_model} --backends {','.join(chosen['chains'].run)} "
                           f"--size N={plan.chains_size['N']} --chains {chains} {common} --device {device}")
    return out


def command(args) -> int:
    started = time.monotonic()
    plan = build_plan(args)
    only = [b.strip() for b in args.backends.split(",") if b.strip()] if args.backends else None
    if only:
        from harness.backends import load_module

        for name in only:
            load_module(name)  # an unknown name is an input error listing the valid ones
    cpu_lanes = args.cpu_lanes if args.cpu_lanes is not None else default_cpu_lanes(plan.cores)
    if cpu_lanes < 1:
        raise SettingsError(f"--cpu-lanes must be a positive integer, got {cpu_lanes}")
    out = args.out or stamped(results_root() / "gpu-check")
    out.mkdir(parents=True, exist_ok=True)
    cmd = command_line(args, out)

    chosen = {
        "crossover": selection.select("gpu", only),
        "chains": selection.select("vectorized_chains", only),
        "sbc": selection.select("sample_batch", only),
    }
    test_cmd = pytest_command([Path("tests/backends/test_gpu.py")], out / "gpu-tests" / "junit.xml")
    settings = {
        "plan": plan.to_dict(), "cpu_lanes": 1 if args.serial else cpu_lanes, "serial": args.serial,
        "selection": {part: sel.to_dict() for part, sel in chosen.items() if part in plan.parts},
        "missing_declarations": selection.missing_declarations(),
        "budget_shares": plans.BUDGET_SHARES,
        "equivalent_commands": equivalent_commands(plan, chosen, test_cmd),
    }
    manifest = provenance.collect(settings, cmd)
    write_json_atomic(out / "manifest.json", manifest)
    log = (lambda msg: None) if args.no_progress else (lambda msg: print(msg, file=sys.stderr, flush=True))
    log(f"gpu-check ({'smoke' if plan.smoke else 'full'}) into {out}: budget {plan.budget_s:.0f} s, parts "
        f"{','.join(plan.parts)}, GPU-capable: {','.join(chosen['crossover'].run) or 'none'}, vectorised chains: "
        f"{','.join(chosen['chains'].run) or 'none'}, sample_batch: {','.join(chosen['sbc'].run) or 'none'}")

    jobs, cell_parts = [], []
    if "tests" in plan.parts:
        jobs.append(tests_job(plan, out / "gpu-tests", plan.cell_timeout_s))
    if "crossover" in plan.parts:
        part = CellPart("crossover", out / "crossover", cmd)
        cell_parts.append(part)
        if chosen["crossover"].run:
            jobs += crossover_jobs(plan, chosen["crossover"].run, part)
    if "chains" in plan.parts:
        part = CellPart("chains", out / "chains", cmd)
        cell_parts.append(part)
        if chosen["chains"].run:
            jobs += chains_jobs(plan, chosen["chains"].run, part)
    if "sbc" in plan.parts:
        sbc_dir = out / "sbc-throughput"
        sbc_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(sbc_dir / "manifest.json", provenance.collect(
            {"plan": plan.to_dict(), "selection": chosen["sbc"].to_dict()}, cmd))
        if chosen["sbc"].run:
            jobs += sbc_jobs(plan, chosen["sbc"].run, sbc_dir)
    for part in cell_parts:
        part.write_manifest({"plan": plan.to_dict(), "selection": chosen[part.name].to_dict()})

    gpu_backends = sorted({j.backend for j in jobs if j.lane == "gpu" and j.backend})
    seen = probe_in_subprocess(gpu_backends, plan.cores)
    manifest["settings"]["gpu_probe"] = seen
    write_json_atomic(out / "manifest.json", manifest)
    if seen:
        for name, (ok, why) in seen.items():
            log(f"GPU probe: {name}: {'GPU ' if ok else 'no GPU: '}{why}")
        jobs = [preskip(j, f"no GPU: {seen[j.backend][1]}")
                if j.lane == "gpu" and j.backend in seen and not seen[j.backend][0] else j for j in jobs]
    deadlines = plan.deadlines(started)
    try:
        run_lanes(jobs, deadlines, cpu_lanes=cpu_lanes, min_start_s=2.0 if plan.smoke else 5.0, log=log,
                  serial=args.serial)
    finally:
        for part in cell_parts:
            part.write_manifest({"plan": plan.to_dict(), "selection": chosen[part.name].to_dict()})
        manifest["wall_s"] = time.monotonic() - started
        write_json_atomic(out / "manifest.json", manifest)
        tables = write_summary(out)
    print((out / "gpu-check.md").read_text())
    print(f"\ngpu-check: {out} ({manifest['wall_s']:.0f} s)")
    return 1 if _broken(tables) else 0


def _broken(tables: dict) -> bool:
    """True when something failed rather than being skipped or timed out by design."""
    bad = False
    tests = tables.get("tests")
    if tests and tests.get("status") == "failed":
        print("gpu-check: the GPU test suite failed", file=sys.stderr)
        bad = True
    for name in ("crossover", "chains", "sbc"):
        frame = tables.get(name)
        if frame is not None and not frame.empty:
            failed = frame[frame["status"].isin(BAD_STATUSES)]
            if not failed.empty:
                print(f"gpu-check: {len(failed)} {name} row(s) failed or crashed", file=sys.stderr)
                bad = True
    return bad
