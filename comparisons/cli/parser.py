"""Every command's options, and the parser that reads them: what each option means, and its default."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from comparisons.errors import InputError
from comparisons.problems import PROBLEMS
from comparisons.run import IMPLEMENTATIONS
from comparisons.spec import DTYPES, INITS, ORDERS, RunSpec
from manual.activations import ACTIVATIONS
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OPTIMIZERS
from manual.batch.training import KERAS_LOSSES
from manual.row.bugs import KNOWN_BUGS
from reference import numerics

__all__ = ["COMMANDS", "PROG", "build_parser"]


PROG = "python -m comparisons"


COMMANDS = ("check", "report", "bench", "audit", "grade", "formulas", "cache")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting
        raise InputError(message)


def _whole_number(minimum: int, below: str) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``; ``below`` says what a smaller one is."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is {below}")
        return value

    return parse


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive finite number")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--problem", choices=[*PROBLEMS, "all"], default=None, help="the document's networks (default: all)"
    )
    parser.add_argument("--dtype", choices=[*DTYPES, "all"], default="all")
    parser.add_argument("--order", choices=[*ORDERS, "all"], default="sequential", help="row order within each epoch")
    parser.add_argument(
        "--init",
        choices=[*INITS, "all"],
        default=None,
        help="initial weights (default: seed, all 0.1 and biases 0, for the document's problems; random for --layers)",
    )
    parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=RunSpec.epochs)
    parser.add_argument(
        "--lr", type=_learning_rate, default=None, help="default: 0.001 regression, 0.0001 classification"
    )
    parser.add_argument(
        "--seed",
        type=_whole_number(0, "negative"),
        default=0,
        help="for the shuffle/sample orders and random/keras inits",
    )
    parser.add_argument(
        "--implementation",
        choices=(*IMPLEMENTATIONS, *KNOWN_BUGS, "minibatch", *MINIBATCH_BUGS),
        default=None,
        metavar="{formulas,layerwise,minibatch,KNOWN-BUG}",
        help="manual side: the document's per-parameter formulas (default), matrix-form backprop, "
        f"or one of the known bugs, to see a mismatch: {', '.join(KNOWN_BUGS)}; for --layers: "
        f"minibatch (default) or one of {', '.join(MINIBATCH_BUGS)}",
    )
    parser.add_argument("--data", metavar="CSV", help="train on this CSV (needs a single --problem, or --layers)")
    add_network_options(parser, _whole_number(1, "not a positive whole number"))
    _add_keras_options(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _add_keras_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="recompute the Keras side; read and write no cache (results are the same)",
    )
    parser.add_argument(
        "--device",
        choices=numerics.DEVICES,
        default="cpu",
        help="where Keras's side runs (default: cpu, even where a GPU is visible; gpu: TF32 off, "
        "op determinism on, and the tolerances were measured on the CPU)",
    )


def build_parser(command: str = "check") -> argparse.ArgumentParser:
    descriptions = {
        "check": "Train the document's network by hand-written backprop and by Keras from identical "
        "weights and rows, and compare them after every epoch. Commands: check (the default), report, bench.",
        "report": "Run the comparisons and write a CSV per run, summary.md and a self-contained report.html.",
        "bench": "Time the plain Keras path (one fit per epoch) against the fast one on the same work, "
        "and a first audit against a cached repeat.",
        "audit": "Check your own step(params, x, y, lr) -> (new_params, loss) against Keras after every step, "
        "under every init, and say which parameter's update is wrong and how.",
        "grade": "Audit a class's submissions (files, or folders of them) in one run, each in a process of its "
        "own, into a gradebook.",
        "formulas audit": "Check a sheet of LaTeX gradient formulas, in the document's notation, against autodiff "
        "(tf.GradientTape and central finite differences) at many random points.",
        "formulas derive": "Print the correct formula sheet for a network, derived symbolically.",
        "cache": "Show where the cache of Keras results lives and how big it is (info), or empty it (clear).",
    }
    prog = PROG if command == "check" else f"{PROG} {command}"
    parser = _Parser(prog=prog, description=descriptions[command])
    if command == "bench":
        parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=1000)
        parser.add_argument(
            "--part",
            choices=["keras", "audit", "grade", "network", "all"],
            default="all",
            help="keras: the plain and fast Keras paths; audit: a first and a cached repeat audit; "
            "grade: a class audited one by one against graded together; network: the Keras paths and "
            "the manual trainer on 4-16-16-3 tanh/relu/softmax, Adam, batch 8, 256 rows, 100 epochs "
            "(default: all four)",
        )
        parser.add_argument(
            "--submissions",
            type=_whole_number(1, "not a positive whole number"),
            default=40,
            help="the grade part's class size (default 40)",
        )
        parser.add_argument(
            "--baseline",
            choices=["cached", "uncached"],
            default="cached",
            help="the grade part's one-by-one audits: sharing the cache (default), or each without it",
        )
        parser.add_argument(
            "--audit-file",
            metavar="PATH.py",
            default=os.path.relpath(Path(__file__).resolve().parents[2] / "examples" / "notebook_regression.py"),
            help="the regression step file the audit part times (default: examples/notebook_regression.py)",
        )
        add_bench_network_options(parser, _whole_number(1, "not a positive whole number"), _learning_rate)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--quiet", action="store_true", help="no progress on the terminal")
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command.startswith("formulas "):
        if command == "formulas audit":
            parser.add_argument(
                "file",
                metavar="FILE",
                help="text, Markdown or a notebook's markdown cells; lines without a derivative are ignored",
            )
            parser.add_argument("--json", action="store_true", help="print one JSON object")
            _add_keras_options(parser)
            parser.add_argument(
                "--network",
                choices=[*PROBLEMS, "auto"],
                help="the document's network; auto: each block of consecutive formulas against the "
                "network that fits it best (or --layers for your own)",
            )
        else:
            parser.add_argument("--network", choices=list(PROBLEMS), help="the document's network (or --layers)")
        add_sheet_network_options(parser)
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command in ("audit", "grade"):
        if command == "audit":
            parser.add_argument(
                "target",
                metavar="PATH[:FUNC]",
                help="your .py file or notebook (.ipynb), and the step function in it (default: step)",
            )
        else:
            parser.add_argument("paths", metavar="PATH", nargs="+", help="submissions (.py, .ipynb) or folders of them")
            parser.add_argument("--func", default="step", help="the step contract's function (default: step)")
            parser.add_argument(
                "--jobs",
                type=_whole_number(1, "not a positive whole number"),
                default=os.cpu_count() or 1,
                help="submissions run at once (default: the number of cores)",
            )
            parser.add_argument("--out", metavar="DIR", help="write grades.csv and grades.html there")
            parser.add_argument("--quiet", action="store_true", help="no progress bar on the terminal")
        parser.add_argument(
            "--contract",
            choices=["step", "tutorial"],
            default="step",
            help="step: FUNC(params, x, y, lr) -> (params, loss); tutorial: the notebooks' "
            "forward(X, parameters) -> (y_hat, A1) and update(parameters, y, y_hat, A1, X[, lr])",
        )
        parser.add_argument("--forward", default="L_layer_forward", help="the tutorial contract's forward function")
        parser.add_argument("--update", default="update_parameters", help="the tutorial contract's update function")
        parser.add_argument(
            "--layout",
            choices=["keras", "columns"],
            default="keras",
            help="the step contract's layout: keras (b (n,), x (n,)) or columns (b (n, 1), x (n, 1))",
        )
        parser.add_argument("--problem", choices=list(PROBLEMS), help="the document's network (or --layers)")
        add_audit_network_options(parser, _whole_number(1, "not a positive whole number"))
        parser.add_argument("--dtype", choices=DTYPES, default="float64")
        parser.add_argument("--order", choices=ORDERS, default="sequential", help="row order within each epoch")
        parser.add_argument(
            "--init", choices=[*INITS, "all"], default="all", help="initial weights (default: every init)"
        )
        parser.add_argument("--epochs", type=_whole_number(1, "not a positive whole number"), default=50)
        parser.add_argument(
            "--lr",
            type=_learning_rate,
            default=None,
            help="default: 0.001 regression, 0.0001 classification, 0.01 (Keras's SGD) for --layers",
        )
        parser.add_argument("--seed", type=_whole_number(0, "negative"), default=0)
        parser.add_argument(
            "--timeout", type=_learning_rate, default=60.0, help="seconds your code may take in all (default 60)"
        )
        parser.add_argument(
            "--memory",
            type=_whole_number(64, "below 64 MiB, too little to start Python and numpy"),
            default=2048,
            metavar="MIB",
            help="memory your code may use, in MiB (default 2048)",
        )
        parser.add_argument(
            "--sandbox",
            action=argparse.BooleanOptionalAction,
            default=command == "grade",
            help="run the code in bubblewrap: read-only files, no network, its own processes "
            f"(default: {'yes' if command == 'grade' else 'no'}; --no-sandbox: the process limits only)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        _add_keras_options(parser)
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    if command == "cache":
        parser.add_argument("action", choices=["info", "clear"])
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
        return parser
    _add_run_options(parser)
    if command == "report":
        parser.add_argument(
            "--out", metavar="DIR", required=True, help="the report folder (replaced if it holds a report)"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress on the terminal")
    return parser


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


SHEET_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")


SHEET_LOSSES = ("mean_squared_error", "binary_crossentropy")


def add_sheet_network_options(parser: argparse.ArgumentParser) -> None:
    _shape_options(parser, "--network", SHEET_ACTIVATIONS, SHEET_LOSSES, "linear or sigmoid", one=True)


def add_audit_network_options(parser: argparse.ArgumentParser, whole_number: Callable[[str], int]) -> None:
    """The audit's and the grader's: a network trained by plain SGD on seeded synthetic rows."""
    group = _shape_options(parser, "--problem", list(ACTIVATIONS), KERAS_LOSSES, "linear, sigmoid or softmax")
    group.add_argument(
        "--batch-size", type=whole_number, help="rows per step: x is (B, n_in), y (B, n_out) (default 1)"
    )
    group.add_argument("--rows", type=whole_number, help="rows of seeded synthetic data (default 16)")


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
