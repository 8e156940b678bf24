"""One-compartment PK model in PyMC: the ODE by a fixed-step 8th-order Dormand-Prince method (scipy's
DOP853 tableau) on the grid of the data (``ode_h``, ``ode_t``), as a ``pytensor.scan``."""

import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy.integrate._ivp import dop853_coefficients as dop853

STAGES = dop853.N_STAGES
A, B, C = dop853.A[:STAGES, :STAGES], dop853.B, dop853.C[:STAGES]


def dC_dt(t, c, k_a, K_m, V_m, D, V):
    dose = pt.switch(t > 0, pt.exp(-k_a * t) * D * k_a / V, 0.0)
    return dose - (V_m / V) * c / (K_m + c)


def dop853_step(h, t, c, k_a, K_m, V_m, D, V):
    k = []
    for i in range(STAGES):
        ci = c + h * sum(A[i, j] * k[j] for j in range(i) if A[i, j] != 0.0) if i else c
        k.append(dC_dt(t + C[i] * h, ci, k_a, K_m, V_m, D, V))
    return c + h * sum(B[i] * k[i] for i in range(STAGES) if B[i] != 0.0)


def build(data) -> pm.Model:
    with pm.Model() as model:
        c_hat = pm.Data("C_hat_data", data["C_hat"])
        ode_h = pm.Data("ode_h_data", data["ode_h"])
        ode_t = pm.Data("ode_t_data", data["ode_t"])
        ode_end = pm.Data("ode_end_data", data["ode_end"])
        dose, volume = pt.constant(float(data["D"])), pt.constant(float(data["V"]))  # Python scalars of the data
        k_a = pm.HalfCauchy("k_a", 1.0)
        K_m = pm.HalfCauchy("K_m", 1.0)
        V_m = pm.HalfCauchy("V_m", 1.0)
        sigma = pm.HalfCauchy("sigma", 1.0)
        c0 = pt.zeros((), dtype="float64")  # posteriordb's transformed data C0 = {0.0}
        path = pytensor.scan(dop853_step, sequences=[ode_h, ode_t], outputs_info=[c0],
                             non_sequences=[k_a, K_m, V_m, dose, volume], n_steps=len(data["ode_h"]),
                             return_updates=False)  # a fixed length: PyTensor's JAX backend needs it static
        pm.LogNormal("C_hat", pt.log(path[ode_end]), sigma, observed=c_hat)
    return model
