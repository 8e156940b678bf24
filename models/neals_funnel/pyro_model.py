"""Neal's funnel in Pyro."""

import pyro
import pyro.distributions as dist
import torch


def model(data):
    v = pyro.sample("v", dist.Normal(0.0, 3.0))
    pyro.sample("x", dist.Normal(0.0, torch.exp(v / 2.0)).expand([data["N"]]).to_event(1))
