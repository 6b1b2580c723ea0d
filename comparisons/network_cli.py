"""The main job's options for a network of the user's own (``--layers`` and the rest)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from comparisons.errors import InputError
from comparisons.network import (
    DEFAULT_LEARNING_RATES,
    NetworkSpec,
    check_network,
    output_activation,
    read_network_csv,
)
from comparisons.spec import DTYPES, INITS, ORDERS, RunSpec
from manual import Architecture
from manual.activations import ACTIVATIONS
from manual.minibatch import KERAS_LOSSES
from manual.optimizers import OPTIMIZERS, OptimizerConfig

__all__ = [
    "NETWORK_ONLY",
    "add_audit_network_options",
    "add_bench_network_options",
    "add_network_options",
    "add_sheet_network_options",
    "audit_spec",
    "bench_network_spec",
    "network_runs",
    "refuse_network_options",
    "sheet_network",
]


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of widths, like 3,5,4,2") from None
    if len(widths) < 2 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: an input and an output width at least, each 1 or more")
    return widths


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not in [0, 1)")
    return value


def _shape_options(
    parser: argparse.ArgumentParser,
    instead: str,
    activations: Sequence[str],
    losses: Sequence[str],
    outputs: str,
    one: bool = False,
) -> argparse._ArgumentGroup:
    """--layers, --activations and --loss: the network's shape, as the main job and the sheets
    take it (``outputs``: the output activations the losses go with; ``one``: one output only)."""
    group = parser.add_argument_group(f"a network of your own (instead of {instead})")
    group.add_argument(
        "--layers",
        type=_widths,
        metavar="N,...,1" if one else "N,N,...",
        help="widths from the input to the one output" if one else "widths from the input to the output",
    )
    group.add_argument(
        "--activations",
        type=_names,
        metavar="ACT,...",
        help=f"one per layer after the input, from {', '.join(activations)} "
        f"(default: tanh, and at the output the loss's own: {outputs})",
    )
    group.add_argument("--loss", choices=losses, help="default mean_squared_error")
    return group


def add_network_options(parser: argparse.ArgumentParser, whole_number: Callable[[str], int]) -> None:
    group = _shape_options(parser, "--problem", list(ACTIVATIONS), KERAS_LOSSES, "linear, sigmoid or softmax")
    group.add_argument("--optimizer", choices=list(OPTIMIZERS), help="Keras's, with its defaults (default sgd)")
    group.add_argument("--momentum", type=_fraction, help="sgd's momentum (default 0)")
    group.add_argument("--nesterov", action="store_true", default=None, help="sgd's Nesterov momentum")
    group.add_argument("--batch-size", type=whole_number, help="rows per update (default 1)")
    group.add_argument("--rows", type=whole_number, default=None, help="rows of seeded synthetic data (default 16)")
    group.add_argument("--target", type=_names, metavar="COL,...", help="with --data: the target columns")
    group.add_argument(
        "--features", type=_names, metavar="COL,...", help="with --data: the features (default: the rest)"
    )


NETWORK_ONLY = ("activations", "loss", "optimizer", "momentum", "nesterov", "batch_size", "rows", "target", "features")


def refuse_network_options(args: argparse.Namespace, options: Sequence[str] = NETWORK_ONLY) -> None:
    """Without --layers, the network's options would be ignored: say so instead."""
    for option in options:
        if getattr(args, option) is not None:
            raise InputError(f"--{option.replace('_', '-')} describes a network of your own: give --layers too")


def _network(args: argparse.Namespace, optimizer: OptimizerConfig, **common: Any) -> NetworkSpec:
    """The network the shape options describe, with the defaults the README gives."""
    if args.problem is not None:
        raise InputError("--problem selects the document's networks and --layers describes your own: give one")
    loss = args.loss or "mean_squared_error"
    activations = args.activations or ("tanh",) * (len(args.layers) - 2) + (output_activation(loss),)
    return NetworkSpec(
        layers=args.layers,
        activations=activations,
        loss=loss,
        optimizer=optimizer,
        batch_size=args.batch_size or 1,
        rows=16 if args.rows is None else args.rows,
        **common,
    )


def network_runs(args: argparse.Namespace) -> tuple[list[NetworkSpec], tuple[np.ndarray, np.ndarray] | None]:
    """Every spec the options ask for (``all`` dtypes, orders, inits expanded), and the CSV's data."""
    name = args.optimizer or "sgd"
    lr = DEFAULT_LEARNING_RATES[name] if args.lr is None else args.lr
    optimizer = OptimizerConfig(name, lr, momentum=args.momentum or 0.0, nesterov=bool(args.nesterov))
    if args.data is None and (args.target or args.features):
        raise InputError("--target and --features name columns of --data")
    if args.data is not None and args.rows is not None:
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
        # asymmetric by default: with every weight 0.1 a layer's neurons stay interchangeable
        for i in (INITS if args.init == "all" else [args.init or "random"])
    ]
    return specs, data


SHEET_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
SHEET_LOSSES = ("mean_squared_error", "binary_crossentropy")


def add_sheet_network_options(parser: argparse.ArgumentParser) -> None:
    _shape_options(parser, "--network", SHEET_ACTIVATIONS, SHEET_LOSSES, "linear or sigmoid", one=True)


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
    loss = args.loss or "mean_squared_error"
    activations = args.activations or ("tanh",) * (len(args.layers) - 2) + (output_activation(loss),)
    check_network(args.layers, activations, loss)
    if args.layers[-1] != 1:
        raise InputError(f"a formula sheet has one output y: --layers must end in 1, not {args.layers[-1]}")
    if max(args.layers) > 9:
        raise InputError("a formula sheet writes one digit per index (w^k_{ij}): widths up to 9")
    odd = [a for a in activations if a not in SHEET_ACTIVATIONS]
    if odd:
        raise InputError(f"a formula sheet's neurons are {', '.join(SHEET_ACTIVATIONS)}, not {odd[0]}")
    return Architecture(tuple(args.layers), tuple(activations), loss)


def add_audit_network_options(parser: argparse.ArgumentParser, whole_number: Callable[[str], int]) -> None:
    """The audit's and the grader's: a network trained by plain SGD on seeded synthetic rows."""
    group = _shape_options(parser, "--problem", list(ACTIVATIONS), KERAS_LOSSES, "linear, sigmoid or softmax")
    group.add_argument(
        "--batch-size", type=whole_number, help="rows per step: x is (B, n_in), y (B, n_out) (default 1)"
    )
    group.add_argument("--rows", type=whole_number, help="rows of seeded synthetic data (default 16)")


def audit_spec(args: argparse.Namespace) -> RunSpec | NetworkSpec:
    """The run a step is audited against: the document's --problem, or a network of --layers."""
    common = {"dtype": args.dtype, "epochs": args.epochs, "order": args.order, "seed": args.seed}
    if args.layers is None:
        refuse_network_options(args, ("activations", "loss", "batch_size", "rows"))
        if args.problem is None:
            raise InputError("give --problem (the document's network) or --layers (your own)")
        return RunSpec(problem=args.problem, lr=args.lr, **common)
    optimizer = OptimizerConfig("sgd", DEFAULT_LEARNING_RATES["sgd"] if args.lr is None else args.lr)
    return _network(args, optimizer, **common)


def add_bench_network_options(
    parser: argparse.ArgumentParser, whole_number: Callable[[str], int], rate: Callable[[str], float]
) -> None:
    """The network part's: the main job's network options, each defaulting to the bench's network."""
    group = _shape_options(
        parser, "the bench's 4-16-16-3", list(ACTIVATIONS), KERAS_LOSSES, "linear, sigmoid or softmax"
    )
    group.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default adam")
    group.add_argument("--momentum", type=_fraction, help="sgd's momentum (default 0)")
    group.add_argument("--nesterov", action="store_true", default=None, help="sgd's Nesterov momentum")
    group.add_argument("--lr", type=rate, help="default: Keras's for the optimizer")
    group.add_argument("--batch-size", type=whole_number, help="default 8")
    group.add_argument("--rows", type=whole_number, help="rows of seeded synthetic data (default 256)")
    group.add_argument("--network-epochs", type=whole_number, help="default 100")
    group.add_argument("--dtype", choices=DTYPES, help="default float64")


def bench_network_spec(args: argparse.Namespace) -> NetworkSpec | None:
    """The network the bench's network part times, or None for its default (4-16-16-3)."""
    given = ["layers", "activations", "loss", "optimizer", "momentum", "nesterov", "lr", "batch_size", "rows"]
    given += ["network_epochs", "dtype"]
    if all(getattr(args, option) is None for option in given):
        return None
    from comparisons.bench import BENCH_NETWORK

    default = NetworkSpec(**BENCH_NETWORK)  # type: ignore[arg-type]
    layers = args.layers or default.layers
    loss = args.loss or (default.loss if args.layers is None else "mean_squared_error")
    activations = args.activations or (
        default.activations
        if args.layers is None and args.loss is None
        else ("tanh",) * (len(layers) - 2) + (output_activation(loss),)
    )
    name = args.optimizer or default.optimizer.name
    lr = DEFAULT_LEARNING_RATES[name] if args.lr is None else args.lr
    return NetworkSpec(
        layers=layers,
        activations=activations,
        loss=loss,
        optimizer=OptimizerConfig(name, lr, momentum=args.momentum or 0.0, nesterov=bool(args.nesterov)),
        batch_size=args.batch_size or default.batch_size,
        rows=args.rows or default.rows,
        epochs=args.network_epochs or default.epochs,
        dtype=args.dtype or default.dtype,
        init=default.init,
        order=default.order,
    )
