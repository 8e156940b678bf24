"""``python -m harness ab``: interleaved A/B benchmark runs of two environments on one machine.

``envs`` resolves an ENV (this checkout, an interpreter, a requirement set built with uv, a git
ref of the project), ``engine`` runs the cells alternately and merges each side into a normal
results directory, ``command`` is the CLI, ``calibrate`` measures the gate's false-alarm rate and
power with repeated A/A and injected-slowdown runs.
"""
