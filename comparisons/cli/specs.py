"""From the command line to the runs: ``resolve`` fills in every default the options leave open,
the one place that does, and the functions after it turn the resolved options into the runs they
ask for, refusing the options that do not fit.

Those take the resolved ``Options``, annotated as the ``argparse.Namespace`` it is, as the handlers hold it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from comparisons.bench import BENCH_NETWORK
from comparisons.cli.options import OPTIONS, SHEET_ACTIVATIONS, Derived
from comparisons.data import read_network_csv
from comparisons.errors import InputError
from comparisons.problems import PROBLEMS
from comparisons.run import IMPLEMENTATIONS
from comparisons.spec import (
    DEFAULT_LEARNING_RATES,
    DTYPES,
    INITS,
    ORDERS,
    Spec,
    check_network,
    output_activation,
)
from manual import Architecture
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OptimizerConfig
from manual.row.bugs import KNOWN_BUGS

__all__ = [
    "NETWORK_ONLY",
    "Options",
    "audit_spec",
    "bench_network_spec",
    "document_runs",
    "implementation_of",
    "network_runs",
    "refuse_network_options",
    "resolve",
    "sheet_network",
]

NETWORK_ONLY = ("activations", "loss", "optimizer", "momentum", "nesterov", "batch_size", "rows", "target", "features")


class Options(argparse.Namespace):
    """What a command runs with: each option as given, or its default from the table. Read-only;
    a Namespace, so the handlers and the renderers read it as they read argparse's."""

    command: str
    given: frozenset[str]  # the options typed on the command line

    def __init__(self, command: str, given: frozenset[str], values: Mapping[str, Any]) -> None:
        for name, value in {**values, "command": command, "given": given}.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"options are read-only once resolved: {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"options are read-only once resolved: {name}")


_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _activations_of(layers: tuple[int, ...], loss: str) -> tuple[str, ...]:
    return ("tanh",) * (len(layers) - 2) + (output_activation(loss),)


def resolve(command: str, parsed: argparse.Namespace) -> Options:
    """The options ``command`` runs with: what ``parsed`` holds, and for each option not given
    its default from the table, a ``Derived`` one computed here. ``parsed`` is left as it is."""
    table = {option.dest: option for option in OPTIONS}
    given = frozenset(name for name, value in vars(parsed).items() if value is not None)
    values = {
        name: table[name].field("default", command) if value is None else value for name, value in vars(parsed).items()
    }

    def unresolved(name: str) -> bool:
        return isinstance(values.get(name), Derived)

    own = values.get("layers") is not None  # a network of one's own, not the document's
    if unresolved("implementation"):
        values["implementation"] = "minibatch" if own else "formulas"
    if unresolved("init"):
        # asymmetric for a network of one's own: with every weight 0.1 a layer's neurons stay interchangeable
        values["init"] = "random" if own else "seed"
    if unresolved("loss"):  # the bench's: its network's loss, unless it is another network
        values["loss"] = "mean_squared_error" if "layers" in given else BENCH_NETWORK["loss"]
    if unresolved("activations"):
        if command == "bench" and not given & {"layers", "loss"}:
            values["activations"] = BENCH_NETWORK["activations"]
        else:
            values["activations"] = _activations_of(values["layers"], values["loss"]) if own else None
    if unresolved("lr"):
        # None: the document's problem's own rate; the audit's and the grader's steps are plain SGD
        optimizer_audit = values.get("contract") in ("dlai", "class")  # a learner's optimizer: Keras's rate for it
        graded = ("audit", "grade", "autograder gradescope")
        stepped = command in graded and not optimizer_audit  # a step's update is plain SGD
        optimizer = "sgd" if stepped else values.get("optimizer", "sgd")
        values["lr"] = DEFAULT_LEARNING_RATES[optimizer] if own or command == "bench" or optimizer_audit else None
    if unresolved("audit_file"):
        values["audit_file"] = os.path.relpath(_EXAMPLES / "notebook_regression.py")
    if unresolved("jobs"):
        values["jobs"] = os.cpu_count() or 1
    if unresolved("root"):
        values["root"] = os.environ.get("AUTOGRADER_ROOT") or "/autograder"
    return Options(command, given, values)


def implementation_of(args: argparse.Namespace) -> str:
    """The manual side: --implementation, as given or resolved."""
    return str(args.implementation)


def document_runs(args: argparse.Namespace) -> list[Spec]:
    """The document's networks the options ask for (``all`` problems, dtypes, orders, inits expanded)."""
    implementation = implementation_of(args)
    if implementation == "minibatch" or implementation in set(MINIBATCH_BUGS) - set(KNOWN_BUGS):
        raise InputError(f"--implementation {implementation} is for a network of your own (--layers)")
    refuse_network_options(args)
    problems = list(PROBLEMS) if args.problem == "all" else [args.problem]
    if args.data is not None and len(problems) != 1:
        raise InputError("--data needs a single --problem (regression or classification)")
    return [
        Spec.document(p, dtype=d, epochs=args.epochs, order=o, init=i, seed=args.seed, lr=args.lr)
        for p in problems
        for d in (DTYPES if args.dtype == "all" else [args.dtype])
        for o in (ORDERS if args.order == "all" else [args.order])
        for i in (INITS if args.init == "all" else [args.init])
    ]


def refuse_network_options(args: argparse.Namespace, options: Sequence[str] = NETWORK_ONLY) -> None:
    """Without --layers, the network's options would be ignored: say so instead."""
    for option in options:
        if option in args.given:
            raise InputError(f"--{option.replace('_', '-')} describes a network of your own: give --layers too")


def _network(args: argparse.Namespace, optimizer: OptimizerConfig, **common: Any) -> Spec:
    """The network the shape options describe."""
    if "problem" in args.given:
        raise InputError("--problem selects the document's networks and --layers describes your own: give one")
    return Spec(
        layers=args.layers,
        activations=args.activations,
        loss=args.loss,
        optimizer=optimizer,
        batch_size=args.batch_size,
        rows=args.rows,
        **common,
    )


def network_runs(args: argparse.Namespace) -> tuple[list[Spec], tuple[np.ndarray, np.ndarray] | None]:
    """Every spec the options ask for (``all`` dtypes, orders, inits expanded), and the CSV's data."""
    implementation = implementation_of(args)
    if implementation in IMPLEMENTATIONS or implementation in set(KNOWN_BUGS) - set(MINIBATCH_BUGS):
        raise InputError(f"--implementation {implementation} is the document's network's; --layers takes minibatch")
    optimizer = OptimizerConfig(args.optimizer, args.lr, momentum=args.momentum, nesterov=args.nesterov)
    if args.data is None and (args.target or args.features):
        raise InputError("--target and --features name columns of --data")
    if args.data is not None and "rows" in args.given:
        raise InputError("--rows makes synthetic data; --data brings its own rows: give one")
    if args.data is not None and not args.target:
        raise InputError("--data with --layers needs --target COL[,COL...]")
    base = _network(args, optimizer, epochs=args.epochs, seed=args.seed)
    data = (
        None
        if args.data is None
        else read_network_csv(args.data, list(args.target), args.features and list(args.features), base)
    )
    specs = [
        base.with_(dtype=d, order=o, init=i)
        for d in (DTYPES if args.dtype == "all" else [args.dtype])
        for o in (ORDERS if args.order == "all" else [args.order])
        for i in (INITS if args.init == "all" else [args.init])
    ]
    return specs, data


def sheet_network(args: argparse.Namespace) -> str | Architecture:
    """The document's network by name (``--network``), or the user's (``--layers``): one
    output, as the sheets' notation has one y, and the neurons a sheet can write."""
    if args.layers is None:
        refuse_network_options(args, ("activations", "loss"))
        if args.network is None:
            raise InputError("give --network (the document's) or --layers (your own)")
        return str(args.network)
    if args.network is not None:
        raise InputError("--network names the document's networks and --layers describes your own: give one")
    loss, activations = args.loss, args.activations
    check_network(args.layers, activations, loss)
    if args.layers[-1] != 1:
        raise InputError(f"a formula sheet has one output y: --layers must end in 1, not {args.layers[-1]}")
    if max(args.layers) > 9:
        raise InputError("a formula sheet writes one digit per index (w^k_{ij}): widths up to 9")
    odd = [a for a in activations if a not in SHEET_ACTIVATIONS]
    if odd:
        raise InputError(f"a formula sheet's neurons are {', '.join(SHEET_ACTIVATIONS)}, not {odd[0]}")
    return Architecture(tuple(args.layers), tuple(activations), loss)


def audit_spec(args: argparse.Namespace) -> Spec:
    """The run a step is audited against: the document's --problem, or a network of --layers."""
    common = {"dtype": args.dtype, "epochs": args.epochs, "order": args.order, "seed": args.seed}
    if args.layers is None:
        refuse_network_options(args, ("activations", "loss", "batch_size", "rows"))
        if args.problem is None:
            raise InputError("give --problem (the document's network) or --layers (your own)")
        return Spec.document(args.problem, lr=args.lr, **common)
    optimizer = OptimizerConfig("sgd", args.lr)  # the step contract's update is plain SGD
    return _network(args, optimizer, **common)


def bench_network_spec(args: argparse.Namespace) -> Spec | None:
    """The network the bench's network part times, or None for its default (4-16-16-3)."""
    network = {"layers", "activations", "loss", "optimizer", "momentum", "nesterov", "lr", "batch_size", "rows"}
    if not args.given & (network | {"network_epochs", "dtype"}):
        return None
    default = Spec(**BENCH_NETWORK)  # type: ignore[arg-type]
    return Spec(
        layers=args.layers,
        activations=args.activations,
        loss=args.loss,
        optimizer=OptimizerConfig(args.optimizer, args.lr, momentum=args.momentum, nesterov=args.nesterov),
        batch_size=args.batch_size,
        rows=args.rows,
        epochs=args.network_epochs,
        dtype=args.dtype,
        init=default.init,
        order=default.order,
    )
