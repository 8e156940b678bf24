"""Sphinx extension of the ppl-harness docs: tables made from the code at build time, never typed by hand.

Directives (MyST: ```{harness-catalogue}``` and so on):

* ``harness-catalogue``: one row per model of the catalogue (``harness.catalogue``), from its declaration
  (``models/<name>/model.py``) and the implementation files in its folder;
* ``harness-references``: one row per model: its stored reference posterior (``results/references``),
  who made it, or the first line of its ``REASON.md``;
* ``harness-accuracy-power``: the probability that the accuracy verdict FAILs a statistic that is off
  by a given amount (``harness.accuracy.power``);
* ``harness-backends``: one row per registered backend, from its ``CAPABILITIES``;
* ``harness-hooks``: one row per optional hook of the backend contract (``harness.backends.base.HOOKS``).

``parser()`` returns the command line's parser for sphinx-argparse (``docs/cli.md``).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    """The parser of ``python -m harness`` (every command that is part of this installation).

    sphinx-argparse reads descriptions and epilogs as reStructuredText; the commands' epilogs are
    plain text laid out for a terminal (examples, aligned comments), so they are shown as literal blocks.
    """
    import textwrap

    from harness.cli import build_parser

    top = build_parser()[0]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if sub.epilog:
                    sub.epilog = "::\n\n" + textwrap.indent(sub.epilog.strip("\n"), "   ")
    return top


def table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None,
          literal_first: bool = True) -> nodes.table:
    """A docutils table: plain text, the first column as literal text (names) unless ``literal_first`` is False."""
    widths = widths or [1] * len(headers)
    tab = nodes.table(classes=["harness-generated"])
    group = nodes.tgroup(cols=len(headers))
    tab += group
    for w in widths:
        group += nodes.colspec(colwidth=w)

    def row_of(cells: list[str], literal_first: bool) -> nodes.row:
        row = nodes.row()
        for i, text in enumerate(cells):
            entry = nodes.entry()
            para = nodes.paragraph()
            para += nodes.literal(text=text) if (literal_first and i == 0) else nodes.Text(text)
            entry += para
            row += entry
        return row

    head = nodes.thead()
    head += row_of(headers, False)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += row_of(cells, literal_first)
    group += body
    return tab


# ---------------------------------------------------------------- the catalogue


def sbc_text(spec) -> str:
    """The SBC methods the declaration allows, or why none does (whether a simulating backend is
    installed is decided at run time: ``python -m harness list``)."""
    usable = [m for m in ("prior", "posterior") if spec.sbc_not_applicable(m) is None]
    if not usable:
        return str(spec.sbc_not_applicable("prior")).replace("not applicable: ", "no: ")
    numpy = spec.simulate is not None and (spec.sample_prior is not None or usable == ["posterior"])
    how = "numpy simulator" if numpy or not spec.simulator else f"{spec.simulator} implementation"
    return f"{', '.join(usable)} ({how})"


def catalogue_rows() -> list[list[str]]:
    from harness.catalogue import families_present, get_model, model_names
    from harness.spec import FAMILY_FILES

    rows = []
    for name in model_names():
        spec = get_model(name)
        present = families_present(name)
        families = ", ".join(f if f in present else f"{f}: not implemented" for f in FAMILY_FILES)
        data = spec.data()
        size = ", ".join(f"{k}={v}" for k, v in spec.size_defaults.items())
        rows.append([name, ", ".join(spec.tags) or "-", spec.size_class + (f" ({size})" if size else ""),
                     f"{spec.n_unconstrained(data):,}", f"{spec.n_observed(data):,}", families, sbc_text(spec),
                     spec.posteriordb or "-", spec.description])
    return rows


class CatalogueDirective(SphinxDirective):
    has_content = False

    def run(self):
        generated(self.env)
        from harness.catalogue import model_folders

        for folder in model_folders().values():
            self.env.note_dependency(str(folder / "model.py"))
        rows = catalogue_rows()
        headers = ["model", "classes", "size class", "parameters (d)", "observations (n)", "families", "SBC",
                   "posteriordb", "description"]
        count = nodes.paragraph(text=f"{len(rows)} models.")
        return [count, table(headers, rows, [14, 10, 8, 6, 6, 14, 12, 14, 30])]


# ---------------------------------------------------------------- references


def reference_rows() -> list[list[str]]:
    from harness.catalogue import model_names, reference_dir

    rows = []
    for name in model_names():
        folder = reference_dir(name)
        prov_file, reason = folder / "provenance.json", folder / "REASON.md"
        prov = json.loads(prov_file.read_text()) if prov_file.is_file() else {}
        if (folder / "summary.csv").is_file():
            backend = str(prov.get("backend", "?"))
            source = prov.get("source", {}) if isinstance(prov.get("source"), dict) else {}
            made = f"posteriordb ({source.get('posteriordb', '?')})" if backend == "posteriordb" else (
                "exact draws (SPEC.exact_posterior)" if backend == "exact" else backend)
            settings = prov.get("settings", {})
            if backend == "exact":
                runs = f"{int(settings.get('draws', 0)):,} independent draws"
            else:
                runs = f"{settings.get('chains', '?')} x {int(settings.get('draws', 0)):,}"
                if settings.get("target_accept") not in (None, 0.8):
                    runs += f", target_accept {settings['target_accept']}"
            ess = prov.get("ess_bulk_min")
            rhat = prov.get("rhat_max")
            check = prov.get("check") if isinstance(prov.get("check"), dict) else None
            check_text = f"{check.get('accuracy', '?')} ({check.get('backend', '?')})" if check else "-"
            rows.append([name, "yes", made, runs, f"{ess:,.0f}" if isinstance(ess, int | float) else "-",
                         f"{rhat:.4f}" if isinstance(rhat, int | float) else "-", check_text])
        elif reason.is_file():
            first = next((line.strip("-* ").strip() for line in reason.read_text().splitlines()[1:]
                          if line.strip().startswith(("-", "*"))), "see REASON.md")
            rows.append([name, "REASON.md", str(prov.get("backend", "-")), "-", "-", "-", first])
        else:
            rows.append([name, "none", "-", "-", "-", "-", "-"])
    return rows


class ReferencesDirective(SphinxDirective):
    has_content = False

    def run(self):
        generated(self.env)
        rows = reference_rows()
        made = sum(r[1] == "yes" for r in rows)
        reasons = sum(r[1] == "REASON.md" for r in rows)
        count = nodes.paragraph(text=f"{made} of {len(rows)} models have a reference; {reasons} have a REASON.md "
                                     f"instead; {len(rows) - made - reasons} have neither yet.")
        headers = ["model", "reference", "made by", "chains x draws", "min bulk ESS", "max R-hat",
                   "check (or why none)"]
        return [count, table(headers, rows, [16, 6, 16, 12, 8, 6, 24])]


# ---------------------------------------------------------------- accuracy power


class AccuracyPowerDirective(SphinxDirective):
    """Power of FAIL at the default bench settings: 3 repeats pooled (bulk ESS ~2,000 each), a reference with
    ESS 40,000, Eight Schools' 18 scalars x 4 statistics = 72 tests."""

    has_content = False

    def run(self):
        generated(self.env)
        from harness.accuracy import ACCURACY_ALPHA, FAIL_SCALE, FAIL_SD, power

        fit_ess, ref_ess, repeats, tests = 2000, 40_000, 3, 72
        # standard errors in reference sd: mean sqrt(1/ESS); sd (relative) sqrt(1/(2 ESS)); pooled over repeats
        se_mean = math.sqrt(1 / (fit_ess * repeats) + 1 / ref_ess)
        se_sd = math.sqrt(1 / (2 * fit_ess * repeats) + 1 / (2 * ref_ess))
        rows = []
        for label, diff, threshold, se in (
            ("mean shifted by 0.05 sd", 0.05, FAIL_SD, se_mean),
            ("mean shifted by 0.1 sd (the shift mutant)", 0.10, FAIL_SD, se_mean),
            ("mean shifted by 0.2 sd", 0.20, FAIL_SD, se_mean),
            ("sd 7.5% too large", 0.075, FAIL_SCALE, se_sd),
            ("sd 10% too large (the x1.1 scale mutant)", 0.10, FAIL_SCALE, se_sd),
            ("sd 29% too small (the half-variance mutant)", 1 - math.sqrt(0.5), FAIL_SCALE, se_sd),
        ):
            chance = power(diff, threshold, se, tests, ACCURACY_ALPHA)
            rows.append([label, f"{threshold:g}", f"{se:.4f}", f"{chance:.0%}"])
        intro = nodes.paragraph(text=(
            f"Computed at build time by harness.accuracy.power: {repeats} repeats pooled, bulk ESS {fit_ess:,} "
            f"each, a reference summary with ESS {ref_ess:,}, {tests} tests (Eight Schools: 18 scalars x 4 "
            f"statistics), family level {ACCURACY_ALPHA}. Standard errors in reference sd (relative for the sd), "
            "for a near-normal posterior."))
        headers = ["difference", "threshold", "combined se", "P(FAIL)"]
        return [intro, table(headers, rows, [30, 8, 8, 8], literal_first=False)]


# ---------------------------------------------------------------- backends


class BackendsDirective(SphinxDirective):
    has_content = False

    def run(self):
        generated(self.env)
        from harness.backends import capabilities
        from harness.backends.base import HOOKS, optional_hook
        from harness.backends.registry import BUILTIN

        rows = []
        for module in BUILTIN:
            caps = module.CAPABILITIES
            hooks = sorted({h for h in HOOKS if HOOKS[h].__name__ != "Backend" and optional_hook(module, h)})
            flags = [f for f, on in (("quick suite", caps.quick_suite), ("reference quality", caps.reference_quality),
                                     ("vectorised chains", caps.vectorized_chains)) if on]
            rows.append([caps.name, caps.family, ", ".join(caps.samples), "/".join(caps.devices),
                         str(caps.sbc_replicates), f"ppl-harness[{caps.extra}]", ", ".join(flags) or "-",
                         ", ".join(hooks) or "-"])
            capabilities(caps.name)
        headers = ["backend", "family", "samples", "devices", "SBC replicates", "extra", "flags", "optional hooks"]
        return [table(headers, rows, [10, 7, 7, 6, 6, 14, 14, 30])]


class HooksDirective(SphinxDirective):
    """The optional hooks of ``harness.backends.base.HOOKS``: function, protocol, what it is for."""

    has_content = False

    def run(self):
        generated(self.env)
        import inspect

        from harness.backends.base import HOOKS, Backend

        rows = []
        for name, protocol in HOOKS.items():
            if protocol is Backend:
                continue
            method = getattr(protocol, name, None)
            params = [p for p in inspect.signature(method).parameters if p != "self"] if method else []
            signature = f"{name}({', '.join(params)})"
            doc = " ".join((inspect.getdoc(protocol) or "").split("\n\n")[0].split()).replace("``", "")
            rows.append([signature, protocol.__name__, doc])
        return [table(["function", "protocol", "what it is for"], rows, [22, 14, 40])]


# ---------------------------------------------------------------- always rebuilt


ALWAYS = ("cli", "api")  # made from the code by sphinx-argparse and autodoc


def generated(env) -> None:
    """Mark the current page as generated from the code: it is read again on every build."""
    if not hasattr(env, "harness_generated"):
        env.harness_generated = set()
    env.harness_generated.add(env.docname)


def _outdated(app, env, added, changed, removed):
    return sorted((getattr(env, "harness_generated", set()) | set(ALWAYS)) & set(env.found_docs))


def _purge(app, env, docname):
    getattr(env, "harness_generated", set()).discard(docname)


def _merge(app, env, docnames, other):
    if not hasattr(env, "harness_generated"):
        env.harness_generated = set()
    env.harness_generated |= getattr(other, "harness_generated", set())


def setup(app):
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.add_directive("harness-catalogue", CatalogueDirective)
    app.add_directive("harness-references", ReferencesDirective)
    app.add_directive("harness-accuracy-power", AccuracyPowerDirective)
    app.add_directive("harness-backends", BackendsDirective)
    app.add_directive("harness-hooks", HooksDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
