"""From parsed options to the runs they ask for: every default the options leave open, resolved here."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from comparisons.cli.parser import SHEET_ACTIVATIONS
from comparisons.errors import InputError
from comparisons.network import (
    DEFAULT_LEARNING_RATES,
    NetworkSpec,
    check_network,
    output_activation,
    read_network_csv,
)
from comparisons.problems import PROBLEMS
from comparisons.run import IMPLEMENTATIONS
from comparisons.spec import DTYPES, INITS, ORDERS, RunSpec
from manual import Architecture
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OptimizerConfig
from manual.row.bugs import KNOWN_BUGS

__all__ = [
    "NETWORK_ONLY",
    "activations_of",
    "audit_spec",
    "bench_network_spec",
    "document_runs",
    "implementation_of",
    "learning_rate_of",
    "network_runs",
    "refuse_network_options",
    "sheet_network",
]

NETWORK_ONLY = ("activations", "loss", "optimizer", "momentum", "nesterov", "batch_size", "rows", "target", "features")


def implementation_of(args: argparse.Namespace) -> str:
    """--implementation, or the default: the document's formulas, or the batch trainer for --layers."""
    if args.implementation is not None:
        return str(args.implementation)
    return "minibatch" if args.layers is not None else "formulas"


def activations_of(layers: tuple[int, ...], loss: str, given: tuple[str, ...] | None) -> tuple[str, ...]:
    """--activations, or the default: tanh, and at the output the loss's own."""
    return given or ("tanh",) * (len(layers) - 2) + (output_activation(loss),)


def learning_rate_of(optimizer: str, lr: float | None) -> float:
    """--lr, or Keras's default for the optimizer."""
    return DEFAULT_LEARNING_RATES[optimizer] if lr is None else lr


def document_runs(args: argparse.Namespace) -> list[RunSpec]:
    """The document's networks the options ask for (``all`` problems, dtypes, orders, inits expanded)."""
    implementation = implementation_of(args)
    if implementation == "minibatch" or implementation in set(MINIBATCH_BUGS) - set(KNOWN_BUGS):
        raise InputError(f"--implementation {implementation} is for a network of your own (--layers)")
    refuse_network_options(args)
    problems = list(PROBLEMS) if args.problem in (None, "all") else [args.problem]
    if args.data is not None and len(problems) != 1:
        raise InputError("--data needs a single --problem (regression or classification)")
    init = args.init or "seed"
    return [
        RunSpec(problem=p, dtype=d, epochs=args.epochs, order=o, init=i, seed=args.seed, lr=args.lr)
        for p in problems
        for d in (DTYPES if args.dtype == "all" else [args.dtype])
        for o in (ORDERS if args.order == "all" else [args.order])
        for i in (INITS if init == "all" else [init])
    ]


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
    activations = activations_of(args.layers, loss, args.activations)
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
    implementation = implementation_of(args)
    if implementation in IMPLEMENTATIONS or implementation in set(KNOWN_BUGS) - set(MINIBATCH_BUGS):
        raise InputError(f"--implementation {implementation} is the document's network's; --layers takes minibatch")
    name = args.optimizer or "sgd"
    lr = learning_rate_of(name, args.lr)
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
    activations = activations_of(args.layers, loss, args.activations)
    check_network(args.layers, activations, loss)
    if args.layers[-1] != 1:
        raise InputError(f"a formula sheet has one output y: --layers must end in 1, not {args.layers[-1]}")
    if max(args.layers) > 9:
        raise InputError("a formula sheet writes one digit per index (w^k_{ij}): widths up to 9")
    odd = [a for a in activations if a not in SHEET_ACTIVATIONS]
    if odd:
        raise InputError(f"a formula sheet's neurons are {', '.join(SHEET_ACTIVATIONS)}, not {odd[0]}")
    return Architecture(tuple(args.layers), tuple(activations), loss)


def audit_spec(args: argparse.Namespace) -> RunSpec | NetworkSpec:
    """The run a step is audited against: the document's --problem, or a network of --layers."""
    common = {"dtype": args.dtype, "epochs": args.epochs, "order": args.order, "seed": args.seed}
    if args.layers is None:
        refuse_network_options(args, ("activations", "loss", "batch_size", "rows"))
        if args.problem is None:
            raise InputError("give --problem (the document's network) or --layers (your own)")
        return RunSpec(problem=args.problem, lr=args.lr, **common)
    optimizer = OptimizerConfig("sgd", learning_rate_of("sgd", args.lr))
    return _network(args, optimizer, **common)


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
    kept = default.activations if args.layers is None and args.loss is None else None
    activations = activations_of(layers, loss, args.activations or kept)
    name = args.optimizer or default.optimizer.name
    lr = learning_rate_of(name, args.lr)
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
