"""BYM2 (offset only) in PyMC: phi flat, with the ICAR pairwise term and the soft sum-to-zero
constraint as Potentials."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    n = data["N"]
    with pm.Model() as model:
        y = pm.Data("y_data", data["y"])
        exposure = pm.Data("E_data", data["E"])
        node1 = pm.Data("node1_data", data["node1"])
        node2 = pm.Data("node2_data", data["node2"])
        scaling_factor = pm.Data("scaling_factor_data", data["scaling_factor"])
        beta0 = pm.Normal("beta0", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        rho = pm.Beta("rho", 0.5, 0.5)
        theta = pm.Normal("theta", 0.0, 1.0, shape=n)
        phi = pm.Flat("phi", shape=n)
        pm.Potential("phi_icar", -0.5 * pt.sum(pt.square(phi[node1] - phi[node2])))
        pm.Potential("phi_sum", pm.logp(pm.Normal.dist(0.0, 0.001 * n), pt.sum(phi)))
        convolved = pt.sqrt(1.0 - rho) * theta + pt.sqrt(rho / scaling_factor) * phi
        pm.Poisson("y", mu=pt.exp(pt.log(exposure) + beta0 + convolved * sigma), observed=y)
    return model
