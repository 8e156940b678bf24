"""Simulation-based calibration (SBC) of catalogue models x backends.

For replicate ``i`` of a model, parameters are drawn from the model's numpy prior
(``ModelSpec.sample_prior``), data are simulated from them (``ModelSpec.simulate``), every backend
fits the simulated data, and the ranks of the true values among near-independent posterior draws
are tested for uniformity.

Modules (each small; none imports a PPL at module level):

* ``ranks``   test quantities, ESS-based thinning and ranks of one replicate
* ``stats``   uniformity (ArviZ ECDF simultaneous bands), chi-square, coverage, verdict
* ``worker``  one task (a batch of replicates) inside a worker process: simulate, fit, rank
* ``pool``    worker processes with capped threads, a timeout per task and crash recovery
* ``store``   the SBC run directory: replicates.jsonl (append-only), run config, timing
* ``engine``  plans, seeds and runs the replicates, writes ranks.csv / summary.csv / figures
* ``plots``   ECDF-difference plots with simultaneous bands and rank histograms
* ``command`` ``python -m harness sbc``
"""
