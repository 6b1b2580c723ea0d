"""Every command's options in one table: each option once, with its help, its settings and its default.

Where a command differs (``--epochs`` is 100 for the main job, 50 for the audit, 1000 for the
bench), the field is a ``By``, command by command; where a default follows from other options
(``--init`` is random for ``--layers``), it is a ``Derived``, computed by ``specs.resolve``, the
one place defaults are filled in. The parser stores ``None`` for every option not given, so the
options typed can be told from the defaults.
"""

from __future__ import annotations

import argparse
import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from comparisons.bench import BENCH_NETWORK
from comparisons.cli.values import cell_range, fraction, learning_rate, names, whole_number, widths
from comparisons.problems import PROBLEMS
from comparisons.run import IMPLEMENTATIONS
from comparisons.spec import DTYPES, INITS, ORDERS
from manual.activations import ACTIVATIONS
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OPTIMIZERS
from manual.batch.training import KERAS_LOSSES
from manual.row.bugs import KNOWN_BUGS
from reference import numerics

__all__ = ["AUDIT", "OPTIONS", "RUN", "SHEETS", "SHEET_ACTIVATIONS", "By", "Derived", "Option"]

RUN = ("check", "report")
# the commands that audit code: the autograder's zip grades with grade's options
AUDIT = ("audit", "grade", "autograder gradescope")
SHEETS = ("formulas audit", "formulas derive")
SHEET_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
SHEET_LOSSES = ("mean_squared_error", "binary_crossentropy")


class By(dict[str, Any]):
    """A field that differs from command to command: ``By({("audit", "grade"): 50, "bench": 1000})``."""

    def __init__(self, by: Mapping[str | tuple[str, ...], Any]) -> None:
        super().__init__(
            (command, value) for key, value in by.items() for command in ((key,) if isinstance(key, str) else key)
        )


@dataclass(frozen=True)
class Derived:
    """A default that follows from other options; ``resolve`` computes it, ``rule`` says how."""

    rule: str


@dataclass(frozen=True)
class Option:
    """One option: its flag (a positional's name), argparse's settings, and its default. Any field
    may be a ``By``; ``default`` is what the command runs with when the option is not given."""

    flag: str
    help: str | By | None = None
    default: Any = None
    type: Callable[[str], Any] | By | None = None
    choices: Iterable[str] | By | None = None
    metavar: str | By | None = None
    action: str | builtins.type[argparse.Action] | None = None  # the field above shadows type
    nargs: str | None = None
    required: bool | By = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def field(self, name: str, command: str) -> Any:
        value = getattr(self, name)
        return value[command] if isinstance(value, By) else value

    def add_to(self, parser: argparse.ArgumentParser | argparse._ArgumentGroup, command: str) -> None:
        # None for every option not given, a flag too: resolve() knows then what the user typed
        settings = {f.name: self.field(f.name, command) for f in fields(self) if f.name not in ("flag", "default")}
        settings = {name: value for name, value in settings.items() if value is not None and value is not False}
        if self.flag.startswith("-"):
            settings["default"] = None
        parser.add_argument(self.flag, **settings)


_POSITIVE = whole_number(1, "not a positive whole number")
_OUTPUTS = "linear, sigmoid or softmax"
_SHEET_OUTPUTS = "linear or sigmoid"
# the network the bench's network part times unless an option changes it
_BENCH: dict[str, Any] = BENCH_NETWORK


def _activations_help(neurons: Iterable[str], outputs: str) -> str:
    return (
        f"one per layer after the input, from {', '.join(neurons)} "
        f"(default: tanh, and at the output the loss's own: {outputs})"
    )


OPTIONS = (
    Option(
        "file",
        help="text, Markdown or a notebook's markdown cells; lines without a derivative are ignored",
        metavar="FILE",
    ),
    Option(
        "target",
        help="your .py file or notebook (.ipynb), and the step function in it (default: step)",
        metavar="PATH[:FUNC]",
    ),
    Option("paths", help="submissions (.py, .ipynb) or folders of them", metavar="PATH", nargs="+"),
    Option("action", choices=["info", "clear"]),
    Option(
        "--problem",
        help=By({RUN: "the document's networks (default: all)", AUDIT: "the document's network (or --layers)"}),
        default=By({RUN: "all", AUDIT: None}),
        choices=By({RUN: [*PROBLEMS, "all"], AUDIT: list(PROBLEMS)}),
    ),
    Option(
        "--network",
        help=By(
            {
                "formulas audit": "the document's network; auto: each block of consecutive formulas against the "
                "network that fits it best (or --layers for your own)",
                "formulas derive": "the document's network (or --layers)",
            }
        ),
        choices=By({"formulas audit": [*PROBLEMS, "auto"], "formulas derive": list(PROBLEMS)}),
    ),
    Option(
        "--dtype",
        help=By({(*RUN, *AUDIT): None, "bench": "default float64"}),
        default=By({RUN: "all", AUDIT: "float64", "bench": "float64"}),
        choices=By({RUN: [*DTYPES, "all"], (*AUDIT, "bench"): DTYPES}),
    ),
    Option(
        "--order",
        help="row order within each epoch",
        default="sequential",
        choices=By({RUN: [*ORDERS, "all"], AUDIT: ORDERS}),
    ),
    Option(
        "--init",
        help=By(
            {
                RUN: "initial weights (default: seed, all 0.1 and biases 0, for the document's problems; random for "
                "--layers)",
                AUDIT: "initial weights (default: every init)",
            }
        ),
        default=By({RUN: Derived("seed for the document's problems; random for --layers"), AUDIT: "all"}),
        choices=[*INITS, "all"],
    ),
    Option("--epochs", default=By({RUN: 100, AUDIT: 50, "bench": 1000}), type=_POSITIVE),
    Option(
        "--lr",
        help=By(
            {
                RUN: "default: 0.001 regression, 0.0001 classification",
                AUDIT: "default: 0.001 regression, 0.0001 classification, 0.01 (Keras's SGD) for --layers",
                "bench": "default: Keras's for the optimizer",
            }
        ),
        default=By(
            {
                (*RUN, *AUDIT): Derived("None (the problem's own); with --layers, Keras's for the optimizer"),
                "bench": Derived("Keras's for the optimizer"),
            }
        ),
        type=learning_rate,
    ),
    Option(
        "--seed",
        help=By({RUN: "for the shuffle/sample orders and random/keras inits", AUDIT: None}),
        default=0,
        type=whole_number(0, "negative"),
    ),
    Option(
        "--implementation",
        help="manual side: the document's per-parameter formulas (default), matrix-form backprop, "
        f"or one of the known bugs, to see a mismatch: {', '.join(KNOWN_BUGS)}; for --layers: "
        f"minibatch (default) or one of {', '.join(MINIBATCH_BUGS)}",
        default=Derived("formulas; minibatch for --layers"),
        choices=(*IMPLEMENTATIONS, *KNOWN_BUGS, "minibatch", *MINIBATCH_BUGS),
        metavar="{formulas,layerwise,minibatch,KNOWN-BUG}",
    ),
    Option("--data", help="train on this CSV (needs a single --problem, or --layers)", metavar="CSV"),
    Option(
        "--layers",
        help=By(
            {
                SHEETS: "widths from the input to the one output",
                (*RUN, *AUDIT, "bench"): "widths from the input to the output",
            }
        ),
        default=By({(*RUN, *AUDIT, *SHEETS): None, "bench": _BENCH["layers"]}),
        type=widths,
        metavar=By({SHEETS: "N,...,1", (*RUN, *AUDIT, "bench"): "N,N,..."}),
    ),
    Option(
        "--activations",
        help=By(
            {
                SHEETS: _activations_help(SHEET_ACTIVATIONS, _SHEET_OUTPUTS),
                (*RUN, *AUDIT, "bench"): _activations_help(ACTIVATIONS, _OUTPUTS),
            }
        ),
        default=By(
            {
                (*RUN, *AUDIT, *SHEETS): Derived("with --layers: tanh, and at the output the loss's own"),
                "bench": Derived("the bench's; with --layers or --loss: tanh, and at the output the loss's own"),
            }
        ),
        type=names,
        metavar="ACT,...",
    ),
    Option(
        "--loss",
        help="default mean_squared_error",
        default=By(
            {
                (*RUN, *AUDIT, *SHEETS): "mean_squared_error",
                "bench": Derived("the bench's; mean_squared_error with --layers"),
            }
        ),
        choices=By({SHEETS: SHEET_LOSSES, (*RUN, *AUDIT, "bench"): KERAS_LOSSES}),
    ),
    Option(
        "--optimizer",
        help=By(
            {
                RUN: "Keras's, with its defaults (default sgd)",
                "bench": "default adam",
                AUDIT: "the optimizer your dlai or class code implements (default adam; sgd with --momentum: momentum)",
            }
        ),
        default=By({RUN: "sgd", "bench": _BENCH["optimizer"].name, AUDIT: "adam"}),
        choices=list(OPTIMIZERS),
    ),
    Option(
        "--momentum",
        help=By({(*RUN, "bench"): "sgd's momentum (default 0)", AUDIT: "sgd's momentum (default: your code's)"}),
        default=0.0,
        type=fraction,
    ),
    Option("--class", help="the class contract's optimizer class (default: found by --optimizer's name)"),
    Option("--beta1", help="Adam's beta_1 (default: your code's; else 0.9)", type=fraction),
    Option("--beta2", help="Adam's beta_2 (default: your code's; else 0.999)", type=fraction),
    Option(
        "--epsilon",
        help="epsilon (default: your code's; else 1e-8 for dlai, Keras's 1e-7 for a class)",
        type=learning_rate,
    ),
    Option("--rho", help="RMSprop's rho (default: your code's; else 0.9)", type=fraction),
    Option("--nesterov", help="sgd's Nesterov momentum", default=False, action="store_true"),
    Option(
        "--batch-size",
        help=By(
            {
                RUN: "rows per update (default 1)",
                AUDIT: "rows per step: x is (B, n_in), y (B, n_out) (default 1)",
                "bench": "default 8",
            }
        ),
        default=By({(*RUN, *AUDIT): 1, "bench": _BENCH["batch_size"]}),
        type=_POSITIVE,
    ),
    Option(
        "--rows",
        help=By(
            {
                (*RUN, *AUDIT): "rows of seeded synthetic data (default 16)",
                "bench": "rows of seeded synthetic data (default 256)",
            }
        ),
        default=By({(*RUN, *AUDIT): 16, "bench": _BENCH["rows"]}),
        type=_POSITIVE,
    ),
    Option("--target", help="with --data: the target columns", type=names, metavar="COL,..."),
    Option("--features", help="with --data: the features (default: the rest)", type=names, metavar="COL,..."),
    Option("--network-epochs", help="default 100", default=_BENCH["epochs"], type=_POSITIVE),
    Option(
        "--part",
        help="keras: the plain and fast Keras paths; audit: a first and a cached repeat audit; "
        "grade: a class audited one by one against graded together; network: the Keras paths and "
        "the manual trainer on 4-16-16-3 tanh/relu/softmax, Adam, batch 8, 256 rows, 100 epochs; "
        "diagnosis: a network's audit and its diagnosis, 3-16-16-3 tanh/tanh/softmax, SGD, batch 8, "
        "64 rows, 20 epochs, every init (default: all five)",
        default="all",
        choices=["keras", "audit", "grade", "network", "diagnosis", "all"],
    ),
    Option("--submissions", help="the grade part's class size (default 40)", default=40, type=_POSITIVE),
    Option(
        "--baseline",
        help="the grade part's one-by-one audits: sharing the cache (default), or each without it",
        default="cached",
        choices=["cached", "uncached"],
    ),
    Option(
        "--audit-file",
        help="the regression step file the audit part times (default: examples/notebook_regression.py)",
        default=Derived("examples/notebook_regression.py, relative to the current folder"),
        metavar="PATH.py",
    ),
    Option("--func", help="the step contract's function (default: step)", default="step"),
    Option(
        "--jobs",
        help="submissions run at once (default: the number of cores)",
        default=Derived("the number of cores"),
        type=_POSITIVE,
    ),
    Option(
        "--out",
        help=By(
            {
                "report": "the report folder (replaced if it holds a report)",
                "grade": "write grades.csv and grades.html there",
                "autograder gradescope": "the autograder zip to write (for Gradescope's assignment settings)",
            }
        ),
        metavar=By({("report", "grade"): "DIR", "autograder gradescope": "FILE.zip"}),
        required=By({"report": True, "grade": False, "autograder gradescope": True}),
    ),
    Option(
        "--contract",
        help="step: FUNC(params, x, y, lr) -> (params, loss); tutorial: the notebooks' "
        "forward(X, parameters) -> (y_hat, A1) and update(parameters, y, y_hat, A1, X[, lr]); "
        "dlai: deeplearning.ai's optimizer functions (update_parameters_with_adam, ...); "
        "class: an optimizer class with update(params, grads)",
        default="step",
        choices=["step", "tutorial", "dlai", "class"],
    ),
    Option("--forward", help="the tutorial contract's forward function", default="L_layer_forward"),
    Option("--update", help="the tutorial contract's update function", default="update_parameters"),
    Option(
        "--layout",
        help="how your code stores a layer: columns (W (n_in, n_out), b (n_out, 1), x (n_in, 1)), out-in "
        "(W (n_out, n_in), b (n_out, 1), x (n_in, 1)) or keras (W (n_in, n_out), b (n_out,), x a row) "
        "(default: the one in which your first step runs)",
        default=None,
        choices=["columns", "out-in", "keras"],
    ),
    Option(
        "--cells",
        help="audit a notebook's definitions as they stand after cells A to B (numbered as the audit's "
        "messages number them; default: every cell, or the group of definitions that is the problem's)",
        type=cell_range,
        metavar="A-B",
    ),
    Option("--timeout", help="seconds your code may take in all (default 60)", default=60.0, type=learning_rate),
    Option(
        "--memory",
        help="memory your code may use, in MiB (default 2048)",
        default=2048,
        type=whole_number(64, "below 64 MiB, too little to start Python and numpy"),
        metavar="MIB",
    ),
    Option(
        "--sandbox",
        help=By(
            {
                command: "run the code in bubblewrap: read-only files, no network, its own processes "
                f"(default: {'yes' if command == 'grade' else 'no'}; --no-sandbox: the process limits only)"
                for command in ("audit", "grade")
            }
        ),
        default=By({"audit": False, "grade": True}),
        action=argparse.BooleanOptionalAction,
    ),
    Option("--rubric", help="the points, a TOML file (README: the rubric; default: out of 10)", metavar="FILE.toml"),
    Option("--format", help="otter: Otter's final_grades.csv too", default="gradebook", choices=["gradebook", "otter"]),
    Option("--root", help="submission/ in, results/ out", default=Derived("$AUTOGRADER_ROOT, else /autograder")),
    Option("--isolation", help="auto: bubblewrap, else a uid", default="auto", choices=["auto", "bubblewrap", "uid"]),
    Option("--json", help="print one JSON object", default=False, action="store_true"),
    Option(
        "--quiet",
        help=By({("report", "bench"): "no progress on the terminal", "grade": "no progress bar on the terminal"}),
        default=False,
        action="store_true",
    ),
    Option(
        "--no-cache",
        help="recompute the Keras side; read and write no cache (results are the same)",
        default=False,
        action="store_true",
    ),
    Option(
        "--device",
        help="where Keras's side runs (default: cpu, even where a GPU is visible; gpu: TF32 off, "
        "op determinism on, and the tolerances were measured on the CPU)",
        default="cpu",
        choices=numerics.DEVICES,
    ),
    Option("--debug", help="show tracebacks", default=False, action="store_true"),
)
