"""Jinja2 templates of every document the harness writes (Markdown and HTML): ``render(name, **context)``.

Documents are templates with their data computed in Python (tables already formatted by
``harness.tables``), never strings joined by hand.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent


@cache
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader([str(TEMPLATES), str(TEMPLATES.parent / "report" / "templates")]),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined, autoescape=jinja2.select_autoescape(["html"]))


def render(name: str, **context) -> str:
    """The template ``name`` (e.g. ``"compare.md.j2"``) rendered with ``context``."""
    return environment().get_template(name).render(**context)
