"""Simulation-based calibration (SBC) of catalogue models x backends.

For replicate ``i`` of a model, parameters are drawn from the model's numpy prior
(``ModelSpec.sample_prior``), data are simulated from them (``ModelSpec.simulate``), every backend
fits the simulated data, and the ranks of the true values among near-independent posterior draws
are tested for uniformity.

Modules (each small; none imports a PPL at module level):

* ``ranks``   test quantities, ESS-based thinning and ranks of one replicate
* ``stats``   uniformity (ArviZ ECDF simultaneous bands), chi-square, coverage, verdict
* ``worker``  one task (a batch of replicates) in a fit process: simulate, fit, rank; compiled models cached
* ``child``   the fit process behind each Dask worker: capped threads, a timeout per task, crash recovery
* ``plan``    the plan (sbc.json), its checks, its tasks, the confirmation stage's size
* ``run``     runs the tasks on dask.distributed (embedded LocalCluster or --scheduler), streams them to the store
* ``store``   the SBC run directory: replicates.jsonl (append-only), run config, timing, compile failures
* ``manifest`` provenance of the run's sessions (manifest.json)
* ``summary`` statistics and verdicts: ranks.csv, summary.csv, quantities.csv, figures
* ``markdown`` the table the command prints
* ``plots``   ECDF-difference plots with simultaneous bands and rank histograms
* ``command`` ``python -m harness sbc``
"""
