"""Test backends that fail in the ways real ones do: raise, crash the process, hang, diverge.

Registered through PPL_HARNESS_EXTRA_BACKENDS as ``fake_raise=tests.fakes.broken_raise`` etc.; each
of those modules re-exports this one with its own ``MODE``.
"""

import os
import time

import numpy as np

from tests.fakes import exact

versions = exact.versions
log_density = exact.log_density


def make(mode):
    def compile(spec, data, settings):
        if mode == "raise":
            raise RuntimeError("deliberate failure at compile")
        if mode == "crash":
            os._exit(139)  # like a segfault: no record written by the worker
        if mode == "hang":
            time.sleep(3600)
        return exact.compile(spec, data, settings)

    def sample(compiled, data, settings, seed):
        fit = exact.sample(compiled, data, settings, seed)
        if mode == "nan":
            fit.draws["mu"][0, 0] = np.nan
        return fit

    return compile, sample
