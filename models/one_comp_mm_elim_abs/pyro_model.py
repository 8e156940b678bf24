"""One-compartment PK model in Pyro: the ODE by a fixed-step 8th-order Dormand-Prince method (scipy's
DOP853 tableau) on the grid of the data (``ode_h``, ``ode_t``), a torch loop (autograd through it).

Written for few torch operations (the cost of an eager gradient and of Pyro's JIT trace grows with
them): the dose at every stage time in one vectorised expression, each stage's combination of the
earlier stages as one product with the step's weights."""

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from scipy.integrate._ivp import dop853_coefficients as dop853

STAGES = dop853.N_STAGES
A, B, C = dop853.A[:STAGES, :STAGES], dop853.B, dop853.C[:STAGES]


def step_weights(h: float) -> tuple[list[torch.Tensor], torch.Tensor]:
    """([h A[i, :i] for every stage i], h B) as tensors."""
    return [torch.as_tensor(h * A[i, :i]) for i in range(STAGES)], torch.as_tensor(h * B)


def solve(k_a, K_m, V_m, D, V, steps, starts, ends):
    """C at the ends of the steps ``ends`` from C(t0) = 0 (posteriordb's transformed data C0 = {0.0})."""
    times = torch.as_tensor(np.asarray(starts)[:, None] + np.asarray(steps)[:, None] * C[None, :])  # stage times
    dose = torch.where(times > 0, torch.exp(-k_a * times) * (D * k_a / V), torch.zeros(()))  # dose off at t = 0
    rate = V_m / V
    weights: dict[float, tuple] = {}
    c, out, ends = torch.zeros(()), [], set(ends)
    for n, (h, d) in enumerate(zip(steps, dose.unbind(0))):
        if h not in weights:
            weights[h] = step_weights(h)
        w, b = weights[h]
        d = d.unbind(0)
        k = [d[0] - rate * c / (K_m + c)]
        for i in range(1, STAGES):
            ci = c + w[i] @ torch.stack(k)
            k.append(d[i] - rate * ci / (K_m + ci))
        c = c + b @ torch.stack(k)
        if n in ends:
            out.append(c)
    return torch.stack(out)


def model(data):
    c_hat = data["C_hat"]
    k_a = pyro.sample("k_a", dist.HalfCauchy(torch.tensor(1.0)))
    K_m = pyro.sample("K_m", dist.HalfCauchy(torch.tensor(1.0)))
    V_m = pyro.sample("V_m", dist.HalfCauchy(torch.tensor(1.0)))
    sigma = pyro.sample("sigma", dist.HalfCauchy(torch.tensor(1.0)))
    c = solve(k_a, K_m, V_m, float(data["D"]), float(data["V"]), data["ode_h"].tolist(), data["ode_t"].tolist(),
              data["ode_end"].tolist())
    pyro.sample("C_hat", dist.LogNormal(torch.log(c), sigma).to_event(1), obs=c_hat)
