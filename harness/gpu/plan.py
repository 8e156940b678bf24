"""What gpu-check measures, at full size (the GPU machine) or ``--smoke`` size (any CPU, CI).

Full sizes are chosen to fit about 8 minutes on one H200 with 16 CPU cores (``--budget-s 480``):

- crossover: ``logistic_regression`` (D = 10) at N = 1e3, 1e4, 1e5, 1e6, 4 chains x 200 warm-up x 200
  draws (the harness's 4 chains; 200/200 instead of 1000/1000 so that a cell of a backend whose
  NUTS tree building runs in Python, one small device call at a time, stays near a minute). A CPU
  cell at N = 1e6 on one core needs several minutes: it is expected to hit the per-cell timeout and
  is recorded as ``timeout`` (which the crossover counts as a GPU win, marked). Sizes run smallest
  and largest first, so a budget that runs out loses only the middle sizes;
- chains: ``logistic_regression`` at N = 1e3 with 1, 4, 64 and 1024 vectorised chains, 200/200;
- SBC throughput: ``eight_schools_noncentered``, 1 chain x 500 warm-up x 500 draws (the SBC
  settings), batches of 100, 1000, 10000 data sets on the GPU and 10, 100 on the CPU;
- budget: the parts share ``--budget-s`` (tests 15 %, crossover 45 %, chains 22 %, SBC 18 %; time a
  part leaves unused goes to the next), each cell is also capped at ``--cell-timeout``.

Smoke sizes exercise the same code at N = 100, 200, chains 1, 2, 2 chains x 30/30, SBC batches of
2 and 4 with 1 chain x 50/50: about 2-2.5 minutes on 2 otherwise idle cores (budget 240 s).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.settings import SettingsError

PARTS = ("tests", "crossover", "chains", "sbc")
# cumulative share of the budget at which each part's deadline falls
BUDGET_SHARES = {"tests": 0.15, "crossover": 0.45, "chains": 0.22, "sbc": 0.18}
SBC_GOAL_PER_MIN = 10_000
REPORT_RESERVE_S = 10.0  # kept back from the budget for tables, manifest and Markdown


@dataclass
class CheckPlan:
    smoke: bool = False
    parts: tuple[str, ...] = PARTS
    budget_s: float = 480.0
    cell_timeout_s: float = 120.0
    cores: int = 1
    root_seed: int = 0
    # crossover
    crossover_model: str = "logistic_regression"
    crossover_sizes: list[dict] = field(default_factory=lambda: [{"N": n} for n in (1_000, 10_000, 100_000, 1_000_000)])
    chains: int = 4
    warmup: int = 200
    draws: int = 200
    # chains scaling
    chains_model: str = "logistic_regression"
    chains_size: dict = field(default_factory=lambda: {"N": 1_000})
    chain_counts: list[int] = field(default_factory=lambda: [1, 4, 64, 1024])
    # SBC throughput
    sbc_model: str = "eight_schools_noncentered"
    sbc_warmup: int = 500
    sbc_draws: int = 500
    sbc_batches: dict = field(default_factory=lambda: {"gpu": [100, 1_000, 10_000], "cpu": [10, 100]})
    sbc_kept: int = 39
    sbc_rank_check: int = 20  # replicates per batch whose ranks are computed (a sanity check of the fits)
    devices: tuple[str, ...] = ("gpu", "cpu")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def deadlines(self, start: float) -> dict[str, float]:
        """Absolute deadline of each part (``time.monotonic`` scale): cumulative shares of the budget."""
        usable = max(self.budget_s - REPORT_RESERVE_S, 1.0)
        out, cum = {}, 0.0
        for part in PARTS:
            cum += BUDGET_SHARES[part]
            out[part] = start + usable * min(cum, 1.0)
        return out


def smoke_plan(**overrides) -> CheckPlan:
    base = dict(
        smoke=True, budget_s=240.0, cell_timeout_s=90.0,
        crossover_sizes=[{"N": 100}, {"N": 200}], chains=2, warmup=30, draws=30,
        chains_size={"N": 100}, chain_counts=[1, 2],
        sbc_warmup=50, sbc_draws=50, sbc_batches={"gpu": [2, 4], "cpu": [2, 4]}, sbc_kept=9, sbc_rank_check=4,
    )
    return CheckPlan(**{**base, **overrides})


def full_plan(**overrides) -> CheckPlan:
    return CheckPlan(**overrides)


def validate(plan: CheckPlan) -> None:
    bad = [p for p in plan.parts if p not in PARTS]
    if bad or not plan.parts:
        raise SettingsError(f"unknown parts {bad or '(none)'}; valid parts: {', '.join(PARTS)}")
    if not plan.budget_s > 0:
        raise SettingsError(f"--budget-s must be positive, got {plan.budget_s}")
    if not plan.cell_timeout_s > 0:
        raise SettingsError(f"--cell-timeout must be positive, got {plan.cell_timeout_s}")
    for name in ("cores", "chains", "warmup", "draws", "sbc_warmup", "sbc_draws"):
        value = getattr(plan, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"{name} must be a positive integer, got {value!r}")
    if plan.sbc_draws < plan.sbc_kept:
        raise SettingsError(f"SBC draws ({plan.sbc_draws}) must be at least the {plan.sbc_kept} kept draws")
