"""Sphinx configuration of the ppl-harness docs: ``nox -s docs`` (or
``sphinx-build -W --keep-going -b html docs docs/_build/html``)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "docs" / "_ext")]  # harness, models and the docs' own extension

project = "ppl-harness"
author = "ppl-harness contributors"
copyright = "ppl-harness contributors"
release = version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

extensions = [
    "myst_parser",  # pages are MyST Markdown
    "sphinx.ext.autodoc",  # API pages from the docstrings
    "sphinx.ext.napoleon",  # Google-style "Attributes:" sections
    "sphinxarg.ext",  # the CLI reference from the argument parser
    "harness_docs",  # tables generated from the code (docs/_ext/harness_docs.py)
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = False
napoleon_attr_annotations = False

html_theme = "pydata_sphinx_theme"
html_title = "ppl-harness"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
