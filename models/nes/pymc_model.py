"""NES party identification in PyMC: flat priors (pm.Flat, pm.HalfFlat); age indicators from age_discrete."""

import pymc as pm
import pytensor.tensor as pt


def build(data) -> pm.Model:
    with pm.Model() as model:
        partyid7 = pm.Data("partyid7_data", data["partyid7"])
        x = {k: pm.Data(f"{k}_data", data[k]) for k in ("real_ideo", "race_adj", "educ1", "gender", "income")}
        age = pm.Data("age_discrete_data", data["age_discrete"])
        age30_44, age45_64, age65up = (pt.cast(pt.eq(age, k), "float64") for k in (2, 3, 4))
        beta = pm.Flat("beta", shape=9)
        sigma = pm.HalfFlat("sigma")
        mu = (beta[0] + beta[1] * x["real_ideo"] + beta[2] * x["race_adj"] + beta[3] * age30_44
              + beta[4] * age45_64 + beta[5] * age65up + beta[6] * x["educ1"] + beta[7] * x["gender"]
              + beta[8] * x["income"])
        pm.Normal("partyid7", mu, sigma, observed=partyid7)
    return model
