"""``python -m harness report RUN_DIR``: one self-contained HTML report and a Markdown summary of a run."""
