"""Each command's parser, built from the table of options in options.py."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from comparisons.cli.options import OPTIONS
from comparisons.errors import InputError

__all__ = ["COMMANDS", "COMMAND_OPTIONS", "PROG", "Group", "build_parser"]


PROG = "python -m comparisons"


COMMANDS = ("check", "report", "bench", "audit", "grade", "autograder", "formulas", "cache")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting
        raise InputError(message)


@dataclass(frozen=True)
class Group:
    """Options the help shows under a heading of their own."""

    title: str
    flags: tuple[str, ...]


def _own(instead: str, flags: str = "") -> Group:
    return Group(
        f"a network of your own (instead of {instead})", ("--layers", "--activations", "--loss", *flags.split())
    )


def _layout(*parts: str | Group) -> tuple[str | Group, ...]:
    """Flags written a line at a time: each string holds several, apart by spaces."""
    return tuple(item for part in parts for item in (part.split() if isinstance(part, str) else (part,)))


_RUN = _layout(
    "--problem --dtype --order --init --epochs --lr --seed --implementation --data",
    _own("--problem", "--optimizer --momentum --nesterov --batch-size --rows --target --features"),
    "--no-cache --device --debug",
)
# what a submission is graded with, wherever it is graded; audit and grade add the sandbox and --json
_CODE = ("--contract --forward --update --layout --problem", _own("--problem", "--batch-size --rows"))
_LIMITS = "--dtype --order --init --epochs --lr --seed --timeout --memory"
_TOOLS = "--no-cache --device --debug"
_AUDIT = _layout(*_CODE, f"{_LIMITS} --sandbox --json {_TOOLS}")
_GRADED = _layout(*_CODE, f"{_LIMITS} {_TOOLS}")
_OPTIMIZER = Group(
    "a learner's optimizer (--contract dlai or class)",
    ("--optimizer", "--momentum", "--class", "--beta1", "--beta2", "--epsilon", "--rho"),
)
_BENCH_NETWORK = _own(
    "the bench's 4-16-16-3", "--optimizer --momentum --nesterov --lr --batch-size --rows --network-epochs --dtype"
)

# Each command's options, from the table, in the order --help lists them.
COMMAND_OPTIONS: dict[str, tuple[str | Group, ...]] = {
    "check": (*_RUN, "--json"),
    "report": (*_RUN, "--out", "--quiet"),
    "bench": _layout("--epochs --part --submissions --baseline --audit-file", _BENCH_NETWORK, "--json --quiet --debug"),
    "audit": ("target", "--cells", *_AUDIT, _OPTIMIZER),
    "grade": (*_layout("paths --func --jobs --out --format --rubric --quiet"), *_AUDIT, _OPTIMIZER),
    "autograder gradescope": (*_layout("--out --func --rubric"), *_GRADED, _OPTIMIZER),
    "autograder run": _layout("--root --isolation --debug"),
    "formulas audit": _layout("file --json --no-cache --device --network", _own("--network"), "--debug"),
    "formulas derive": _layout("--network", _own("--network"), "--debug"),
    "cache": _layout("action --json --debug"),
}


_DESCRIPTIONS = {
    "check": "Train the document's network by hand-written backprop and by Keras from identical "
    "weights and rows, and compare them after every epoch. Commands: check (the default), report, bench.",
    "report": "Run the comparisons and write a CSV per run, summary.md and a self-contained report.html.",
    "bench": "Time the plain Keras path (one fit per epoch) against the fast one on the same work, "
    "and a first audit against a cached repeat.",
    "audit": "Check your own step(params, x, y, lr) -> (new_params, loss) against Keras after every step, "
    "under every init, and say which parameter's update is wrong and how.",
    "grade": "Audit a class's submissions (files, or folders of them) in one run, each in a process of its "
    "own, into a gradebook.",
    "autograder gradescope": "Build a Gradescope autograder zip: setup.sh installs this project and bubblewrap, "
    "run_autograder grades the submission with these options and writes results.json.",
    "autograder run": "Grade the one submission in ROOT/submission and write ROOT/results/results.json "
    "(what run_autograder runs on Gradescope).",
    "formulas audit": "Check a sheet of LaTeX gradient formulas, in the document's notation, against autodiff "
    "(tf.GradientTape and central finite differences) at many random points.",
    "formulas derive": "Print the correct formula sheet for a network, derived symbolically.",
    "cache": "Show where the cache of Keras results lives and how big it is (info), or empty it (clear).",
}


def build_parser(command: str = "check") -> argparse.ArgumentParser:
    prog = PROG if command == "check" else f"{PROG} {command}"
    # no abbreviations: an option is the word the table declares (the autograder stores them as typed)
    parser = _Parser(prog=prog, description=_DESCRIPTIONS[command], allow_abbrev=False)
    table = {option.flag: option for option in OPTIONS}
    for entry in COMMAND_OPTIONS[command]:
        if isinstance(entry, Group):
            group = parser.add_argument_group(entry.title)
            for flag in entry.flags:
                table[flag].add_to(group, command)
        else:
            table[entry].add_to(parser, command)
    return parser
