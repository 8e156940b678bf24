"""One-compartment pharmacokinetics with first-order absorption and Michaelis-Menten elimination
(posteriordb ``one_comp_mm_elim_abs-one_comp_mm_elim_abs``).

dC/dt = dose(t) - (V_m / V) C / (K_m + C), dose(t) = exp(-k_a t) D k_a / V for t > 0 and 0 at t = 0,
C(t0 = 0) = 0 (posteriordb's transformed data C0), solved at the 20 measurement times 0.5, ..., 10;
k_a, K_m, V_m, sigma ~ HalfCauchy(1); C_hat[n] ~ LogNormal(log C[n], sigma).

Solvers. Stan: posteriordb's ``integrate_ode_bdf`` (CVODES BDF at Stan Math's defaults for it,
rtol = atol = 1e-10, at most 1e8 steps). numpy reference: scipy's DOP853 at rtol 1e-12, atol 1e-30.
NumPyro: ``jax.experimental.ode.odeint`` (adaptive Dormand-Prince) at rtol 1e-12, atol 1e-30. PyMC and
Pyro: the 8th-order Dormand-Prince tableau (scipy's DOP853 coefficients) on a fixed grid (``ode_h``,
``ode_t``, ``ode_end`` of the data, derived here from ``t0`` and ``times``, 150 steps). Its first
interval starts with a step of 1e-10 days and steps that grow by 1.5: C rises through K_m (as small as
1e-4 in the posterior) within ~1e-5 days of the dose, and the first stage of a step from t = 0 sees the
dose switched off; then steps of at most 0.1 days. Largest |log C| error of the grid: 6e-11 over 150
reference posterior draws and their coordinate steps (x e).

No prior simulator: the half-Cauchy priors put k_a, K_m and V_m far into their tails, where the ODE
is stiff (V_m / K_m large) or C falls towards 0. At 300 prior draws the PyMC and Pyro ports' fixed-step
explicit solver missed log C by more than 1e-6 at 5% of them (by more than 1e-3 at 3.7%: unstable), so
SBC would test that solver rather than the samplers, and the equivalence checks, which start from prior
draws where a model has a prior sampler, would too. They start from the reference posterior draws.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, lognormal_lpdf
from models._posteriordb import arrays

# The fixed grid of the PyMC and Pyro ports (see the module docstring)
H_MAX = 0.1  # largest step (days)
H_MIN = 1e-10  # first step (days)
RATIO = 1.5  # growth of the first interval's steps (ratio 2 left errors of 5e-8 where C passes K_m)


def ode_grid(t0: float, times: np.ndarray, h_max: float = H_MAX, h_min: float = H_MIN, ratio: float = RATIO):
    """(step sizes, step start times, index of the step ending at each output time) of the fixed grid:
    in the first interval steps h_min, ratio h_min, ratio^2 h_min, ... while they fit in its first half
    and stay below h_max, then equal steps of at most h_max; every later interval in equal steps of at
    most h_max."""
    steps: list[float] = []
    ends = []
    prev = float(t0)
    for i, t in enumerate(np.asarray(times, dtype=np.float64)):
        span = t - prev
        head: list[float] = []
        if i == 0:
            h = h_min
            while sum(head) + h <= span / 2 and h <= h_max / ratio:
                head.append(h)
                h *= ratio
        rest = span - sum(head)
        m = max(1, int(np.ceil(rest / h_max - 1e-9)))
        steps += head + [rest / m] * m
        ends.append(len(steps) - 1)
        prev = float(t)
    h = np.array(steps)
    starts = float(t0) + np.concatenate([[0.0], np.cumsum(h)[:-1]])
    return h, starts, np.array(ends, dtype=np.int64)


def prepare(raw):
    data = arrays(raw)
    data["ode_h"], data["ode_t"], data["ode_end"] = ode_grid(data["t0"], data["times"])
    return data


def dC_dt(t, c, k_a, K_m, V_m, D, V):
    dose = np.exp(-k_a * t) * D * k_a / V if t > 0 else 0.0
    return [dose - (V_m / V) * c[0] / (K_m + c[0])]


def solve(params, data):
    """C (N_t,) at ``times`` from C(t0) = 0, scipy DOP853 at rtol 1e-12, atol 1e-30."""
    args = tuple(float(params[k]) for k in ("k_a", "K_m", "V_m")) + (float(data["D"]), float(data["V"]))
    times = np.asarray(data["times"], dtype=np.float64)
    sol = solve_ivp(dC_dt, (float(data["t0"]), float(times[-1])), [0.0], t_eval=times, args=args, method="DOP853",
                    rtol=1e-12, atol=1e-30)
    if not sol.success:
        raise RuntimeError(f"scipy DOP853 failed: {sol.message}")
    return sol.y[0]


def log_prior(params, data):
    return sum(half_cauchy_lpdf(params[k], 1.0) for k in ("k_a", "K_m", "V_m", "sigma"))


def log_likelihood(params, data):
    return lognormal_lpdf(data["C_hat"], np.log(solve(params, data)), float(params["sigma"]))


SPEC = ModelSpec(
    name="one_comp_mm_elim_abs",
    description="One-compartment PK ODE, first-order absorption, Michaelis-Menten elimination, 20 concentrations (posteriordb)",
    params=(Param("k_a", (), "positive"), Param("K_m", (), "positive"), Param("V_m", (), "positive"),
            Param("sigma", (), "positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("C_hat",),
    numerical_rtol=1e-6,
    numerical_rtol_reason="Stan's integrate_ode_bdf (CVODES, rtol = atol = 1e-10) against the ports' solvers (scipy "
                          "DOP853 and JAX odeint at rtol 1e-12, fixed-step DOP853 with log C error <= 6e-11): the "
                          "gradients differ by up to 6e-7 relative (density 1e-9, potential 3.5e-9)",
    tags=("ode",),
    size_class="small",
    posteriordb="one_comp_mm_elim_abs-one_comp_mm_elim_abs",
)
