"""Reference posteriors and the accuracy verdict of benchmark cells.

* ``core``      generate a reference posterior (posteriordb's definition) with any backend, check it
                against a second backend, store it under ``results/references/<model>/``
* ``accuracy``  compare a fit's posterior means with the stored reference: PASS / REVIEW / FAIL
* ``command``   ``python -m harness reference``
"""
