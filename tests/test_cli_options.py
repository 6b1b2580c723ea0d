"""The CLI's options: each declared once, in the table; every parser built from it; every default
resolved in one place, as the commands resolved them before; the parsed arguments never changed."""

from __future__ import annotations

import argparse
import ast
import copy
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from comparisons.cli.options import OPTIONS, By, Derived
from comparisons.cli.parser import COMMAND_OPTIONS, Group, build_parser
from comparisons.cli.specs import resolve

ROOT = Path(__file__).resolve().parent.parent
TABLE = {option.flag: option for option in OPTIONS}


def _flags(command: str) -> list[str]:
    """The table's flags a command takes, in its --help order."""
    return [f for entry in COMMAND_OPTIONS[command] for f in (entry.flags if isinstance(entry, Group) else (entry,))]


def _resolved(command: str, argv: list[str]) -> dict[str, Any]:
    values = vars(resolve(command, build_parser(command).parse_args(argv)))
    return {name: value for name, value in values.items() if name not in ("command", "given")}


def test_every_option_is_declared_once() -> None:
    assert [flag for flag, n in Counter(option.flag for option in OPTIONS).items() if n > 1] == []
    for command in COMMAND_OPTIONS:
        assert [flag for flag, n in Counter(_flags(command)).items() if n > 1] == [], command
    assert set(TABLE) == {flag for command in COMMAND_OPTIONS for flag in _flags(command)}, "an option no command takes"


@pytest.mark.parametrize("command", list(COMMAND_OPTIONS))
def test_every_parser_option_comes_from_the_table(command: str) -> None:
    """Each argument of the parser is a row of the table, with the table's help, choices and type,
    and, where the table says so command by command, the row says it for exactly the commands that
    take the option."""
    actions = [a for a in build_parser(command)._actions if not isinstance(a, argparse._HelpAction)]
    assert [a.option_strings[0] if a.option_strings else a.dest for a in actions] == _flags(command)
    for action in actions:
        option = TABLE[action.option_strings[0] if action.option_strings else action.dest]
        assert action.help == option.field("help", command)
        assert action.choices == option.field("choices", command)
        assert action.type == option.field("type", command)
        assert action.default is None or not action.option_strings  # what resolve() reads as "not given"
    for option in OPTIONS:
        takes = {c for c in COMMAND_OPTIONS if option.flag in _flags(c)}
        for name in ("help", "default", "type", "choices", "metavar", "required"):
            value = getattr(option, name)
            assert not isinstance(value, By) or set(value) == takes, (option.flag, name)


_CHECK = {
    "problem": "all",
    "dtype": "all",
    "order": "sequential",
    "init": "seed",
    "epochs": 100,
    "lr": None,  # each problem's own: 0.001 regression, 0.0001 classification
    "seed": 0,
    "implementation": "formulas",
    "data": None,
    "layers": None,
    "activations": None,
    "loss": "mean_squared_error",
    "optimizer": "sgd",
    "momentum": 0.0,
    "nesterov": False,
    "batch_size": 1,
    "rows": 16,
    "target": None,
    "features": None,
    "no_cache": False,
    "device": "cpu",
    "debug": False,
    "json": False,
}
_REPORT = {key: value for key, value in _CHECK.items() if key != "json"}  # the report writes files instead
_CHECK_NETWORK = {"init": "random", "implementation": "minibatch", "lr": 0.01}
_AUDIT = {
    "contract": "step",
    "forward": "L_layer_forward",
    "update": "update_parameters",
    "layout": None,
    "problem": None,
    "layers": None,
    "activations": None,
    "loss": "mean_squared_error",
    "batch_size": 1,
    "rows": 16,
    "dtype": "float64",
    "order": "sequential",
    "init": "all",
    "epochs": 50,
    "lr": None,
    "seed": 0,
    "timeout": 60.0,
    "memory": 2048,
    "json": False,
    "no_cache": False,
    "device": "cpu",
    "debug": False,
}
# the audit's options for a learner's optimizer (--contract dlai or class)
_OPTIMIZER = {
    "optimizer": "adam",
    "momentum": 0.0,
    "class": None,
    "beta1": None,
    "beta2": None,
    "epsilon": None,
    "rho": None,
}
_BENCH = {
    "epochs": 1000,
    "part": "all",
    "submissions": 40,
    "baseline": "cached",
    "audit_file": "examples/notebook_regression.py",
    "layers": (4, 16, 16, 3),
    "activations": ("tanh", "relu", "softmax"),
    "loss": "categorical_crossentropy",
    "optimizer": "adam",
    "momentum": 0.0,
    "nesterov": False,
    "lr": 0.001,
    "batch_size": 8,
    "rows": 256,
    "network_epochs": 100,
    "dtype": "float64",
    "json": False,
    "quiet": False,
    "debug": False,
}
_SHEET = {"network": None, "layers": None, "activations": None, "loss": "mean_squared_error", "debug": False}


@pytest.mark.parametrize(
    ("command", "argv", "expected"),
    [
        pytest.param("check", [], _CHECK, id="check"),
        pytest.param(
            "check",
            ["--layers", "3,5,2"],
            _CHECK | _CHECK_NETWORK | {"layers": (3, 5, 2), "activations": ("tanh", "linear")},
            id="check-layers",
        ),
        pytest.param(
            "check",
            ["--layers", "3,5,2", "--loss", "categorical_crossentropy", "--optimizer", "adam"],
            _CHECK
            | _CHECK_NETWORK
            | {"layers": (3, 5, 2), "loss": "categorical_crossentropy", "activations": ("tanh", "softmax")}
            | {"optimizer": "adam", "lr": 0.001},
            id="check-layers-adam",
        ),
        pytest.param("report", ["--out", "r"], _REPORT | {"out": "r", "quiet": False}, id="report"),
        pytest.param("bench", [], _BENCH, id="bench"),
        pytest.param(
            "bench",
            ["--layers", "4,3"],
            _BENCH | {"layers": (4, 3), "loss": "mean_squared_error", "activations": ("linear",)},
            id="bench-layers",
        ),
        pytest.param(
            "bench",
            ["--loss", "binary_crossentropy", "--optimizer", "sgd"],
            _BENCH
            | {"loss": "binary_crossentropy", "activations": ("tanh", "tanh", "sigmoid")}
            | {"optimizer": "sgd", "lr": 0.01},
            id="bench-loss-sgd",
        ),
        pytest.param(
            "audit", ["x.py"], _AUDIT | _OPTIMIZER | {"target": "x.py", "sandbox": False, "cells": None}, id="audit"
        ),
        pytest.param(
            "audit",
            ["x.py", "--layers", "3,4,2", "--loss", "categorical_crossentropy"],
            _AUDIT
            | _OPTIMIZER
            | {"target": "x.py", "sandbox": False, "cells": None, "layers": (3, 4, 2)}
            | {"loss": "categorical_crossentropy"}
            | {"activations": ("tanh", "softmax"), "lr": 0.01},  # Keras's SGD: the step contract's update
            id="audit-layers",
        ),
        pytest.param(
            "grade",
            ["a.py"],
            _AUDIT
            | _OPTIMIZER
            | {"paths": ["a.py"], "func": "step", "jobs": os.cpu_count() or 1, "out": None, "quiet": False}
            | {"sandbox": True, "format": "gradebook", "rubric": None},
            id="grade",
        ),
        pytest.param(
            "formulas audit", ["f.md"], _SHEET | {"file": "f.md", "json": False, "no_cache": False, "device": "cpu"}
        ),
        pytest.param("formulas derive", [], _SHEET),
        pytest.param(
            "formulas derive",
            ["--layers", "2,3,1", "--loss", "binary_crossentropy"],
            _SHEET | {"layers": (2, 3, 1), "loss": "binary_crossentropy", "activations": ("tanh", "sigmoid")},
        ),
        pytest.param("cache", ["info"], {"action": "info", "json": False, "debug": False}),
    ],
)
def test_resolved_defaults_are_what_each_command_used(
    command: str, argv: list[str], expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spelled out from the commands as they were before the table: the main job's 100 epochs, the
    audit's 50 and the bench's 1000; --init seed, or random for --layers; the learning rate each
    problem's own, or Keras's for the optimizer; the grader in the sandbox, the audit not."""
    monkeypatch.chdir(ROOT)  # the bench's --audit-file is relative to the current folder
    assert _resolved(command, argv) == expected


def test_given_options_are_told_from_defaults() -> None:
    """--rows 16 is the default's value, and still refused with --data: it was typed."""
    options = resolve("check", build_parser("check").parse_args(["--rows", "16", "--nesterov"]))
    assert options.given == {"rows", "nesterov"}
    assert resolve("check", build_parser("check").parse_args([])).given == frozenset()


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("check", ["--layers", "3,2", "--optimizer", "adam"]),
        ("bench", ["--loss", "binary_crossentropy"]),
        ("grade", ["a.py", "--problem", "regression"]),
        ("formulas derive", ["--network", "regression"]),
    ],
)
def test_resolution_leaves_the_parsed_arguments_as_they_are(command: str, argv: list[str]) -> None:
    parsed = build_parser(command).parse_args(argv)
    before = copy.deepcopy(vars(parsed))
    options = resolve(command, parsed)
    assert vars(parsed) == before
    assert not any(isinstance(v, Derived | By) for v in vars(options).values()), "a default left unresolved"
    with pytest.raises(AttributeError, match="read-only"):
        options.epochs = 1
    with pytest.raises(AttributeError, match="read-only"):
        del options.epochs


def test_no_code_changes_the_arguments() -> None:
    """No ``args.x = ...``, ``setattr(args, ...)`` or ``vars(args)[...] = ...`` in the CLI: the
    defaults are the table's and resolve()'s alone."""
    found = []
    for path in sorted((ROOT / "comparisons" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign | ast.Delete):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("setattr", "delattr"):
                found.append(f"{path.name}:{node.lineno}")
            for target in targets:
                base = target.value if isinstance(target, ast.Attribute | ast.Subscript) else None
                if isinstance(base, ast.Name) and base.id in ("args", "parsed", "options"):
                    found.append(f"{path.name}:{target.lineno}")
                if isinstance(base, ast.Call) and ast.unparse(base.func) == "vars":
                    found.append(f"{path.name}:{target.lineno}")
    assert found == []
