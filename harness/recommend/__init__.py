"""``python -m harness recommend --model NAME``: rank backends for a model from stored results."""
