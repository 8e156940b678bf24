"""Command line: ``python -m harness <command>``; ``python -m harness <command> --help`` for each.

Each command lives in its own module exposing ``configure(parser)`` and ``command(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from harness import __version__
from harness.backends import BackendUnavailableError
from harness.errors import HarnessInputError

COMMANDS = {
    "list": ("harness.commands.list_cmd", "show every model and backend, and whether it runs here"),
    "run": ("harness.run.command", "benchmark models x backends and write a results directory"),
    "sbc": ("harness.sbc.command", "simulation-based calibration of models x backends"),
    "report": ("harness.report.command", "render an HTML + Markdown report of a results directory"),
    "compare": ("harness.compare.command", "compare two runs; exit 1 on a regression"),
    "ab": ("harness.ab.command", "interleaved A/B runs of two environments, then the regression gate"),
    "recommend": ("harness.recommend.command", "rank backends for a model from stored results"),
    "reference": ("harness.reference.command", "make reference posteriors (posteriordb's definition) for catalogue models"),
    "sbc-power": ("harness.sbc.power", "power and false-alarm tables of the SBC verdict"),
    "new-model": ("harness.commands.new_model", "scaffold a model folder from one PyMC, NumPyro or Stan file"),
    "choose": ("harness.commands.choose", "which backend for this model: runs, reference, accuracy, SBC, recommendation"),
    "gpu-check": ("harness.gpu.command", "GPU machine check: GPU tests, CPU/GPU crossover, chains, SBC throughput"),
}


def _load(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            return None  # command not part of this installation
        raise


ALL = "*"  # build_parser(ALL): every command's options (the docs' CLI reference)

# examples of the commands whose module sets no epilog of its own
EXAMPLES = {
    "sbc": ["python -m harness sbc --models eight_schools_noncentered --backends numpyro --sims 1000",
            "python -m harness sbc --models normal_mean --method posterior --confirm"],
    "report": ["python -m harness report results/runs/<stamp>",
               "python -m harness report results/runs/<stamp> --overview overview.png"],
    "compare": ["python -m harness compare results/baselines/quick results/runs/<stamp>",
                "python -m harness compare BASE NEW --fail-on-deterministic --junit junit.xml"],
    "ab": ['python -m harness ab --a "numpyro==0.21.0" --b "numpyro==0.22.0" --backends numpyro',
           "python -m harness ab --a main --backends stan,numpyro"],
    "reference": ["python -m harness reference --models eight_schools_noncentered",
                  "python -m harness reference --import-posteriordb path/to/posteriordb --models arma11"],
    "sbc-power": ["python -m harness sbc-power", "python -m harness sbc-power --n 100,1000 --kept 99"],
    "gpu-check": ["python -m harness gpu-check --smoke"],
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows every option's default (unless its help says it)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or "default" in text.lower() or action.default is None
                or action.default is False or action.default == [] or action.default is argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


def _epilog(name: str) -> str | None:
    lines = EXAMPLES.get(name)
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def program_name() -> str:
    """How the user started the harness: ``ppl-harness`` (the console script) or ``python -m harness``."""
    return "ppl-harness" if Path(sys.argv[0]).name == "ppl-harness" else "python -m harness"


def build_parser(selected: str | None = ALL) -> tuple[argparse.ArgumentParser, dict]:
    """The parser and {command: handler}. Only the ``selected`` command's module is imported and
    configured (every one for ``ALL``): a command starts without importing what the others need."""
    prog = program_name()
    parser = argparse.ArgumentParser(prog=prog, description="ppl-harness: benchmark and validate PPL backends",
                                     formatter_class=HelpFormatter, epilog=f"{prog} <command> --help for each")
    parser.add_argument("--version", action="version", version=f"ppl-harness {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="command")
    handlers = {}
    for name, (module_name, help_text) in COMMANDS.items():
        if selected not in (ALL, name):
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        module = _load(module_name)
        if module is None:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=_epilog(name),
                           formatter_class=HelpFormatter)
        module.configure(p)
        handlers[name] = module.command
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if a in COMMANDS), None)
    parser, handlers = build_parser(selected)
    args = parser.parse_args(argv)
    if not args.cmd:
        parser.print_help()
        return 2
    try:
        return int(handlers[args.cmd](args) or 0)
    except (HarnessInputError, BackendUnavailableError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
