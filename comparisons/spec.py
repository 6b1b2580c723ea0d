"""What one comparison run is: a network, its optimizer and batch size, dtype, epochs, row order,
initial weights and seed, in one ``Spec``, validated in one place.

The document's two problems are presets of it (``Spec.document("regression")``):
the 2-2-1 network with their activations and losses, plain SGD at the
tutorial's rates, batch size 1, and the document's four rows. Only a preset
can be trained by the exact per-row implementations and is held to its
problem's own tolerance.

Everything random comes from ``numpy.random.default_rng((seed, stream))``, one
stream per purpose, so changing the row order never changes the initial weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from comparisons.errors import InputError
from comparisons.problems import PROBLEMS, Problem
from comparisons.tolerances import Tolerance, network_tolerance, tolerance_for
from manual import Architecture, Params
from manual.activations import ACTIVATIONS
from manual.batch.optimizers import OPTIMIZERS, OptimizerConfig
from manual.batch.training import KERAS_LOSSES

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "DTYPES",
    "INITS",
    "ORDERS",
    "Spec",
    "check_network",
    "output_activation",
    "random_params",
    "row_order",
    "seed_params",
]

DTYPES = ("float32", "float64")
ORDERS = ("sequential", "shuffle", "sample")
INITS = ("seed", "random", "keras")
_INIT_STREAM, _ORDER_STREAM = 0, 1
# Keras's own defaults: SGD's 0.01, the adaptive optimizers' 0.001
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.001}
_CLASSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def output_activation(loss: str) -> str:
    """The output activation a loss goes with when none is given."""
    return {"binary_crossentropy": "sigmoid", **dict.fromkeys(_CLASSES, "softmax")}.get(loss, "linear")


@dataclass(frozen=True)
class Spec:
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str = "mean_squared_error"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int = 1
    rows: int = 16  # of synthetic data; a CSV, or a preset's document, brings its own
    dtype: str = "float64"
    epochs: int = 20
    order: str = "sequential"
    init: str = "seed"
    seed: int = 0
    preset: str | None = None  # "regression" or "classification": one of the document's problems

    @classmethod
    def document(
        cls,
        problem: str = "regression",
        *,
        dtype: str = "float64",
        epochs: int = 100,
        order: str = "sequential",
        init: str = "seed",
        seed: int = 0,
        lr: float | None = None,
    ) -> Spec:
        """One of the document's problems; ``lr`` None: the tutorial's rate for it."""
        if problem not in PROBLEMS:
            raise InputError(f"unknown problem {problem!r} (choose from {', '.join(PROBLEMS)})")
        if lr is not None and not (np.isfinite(lr) and lr > 0):
            raise InputError(f"learning rate must be a positive finite number, got {lr}")
        definition = PROBLEMS[problem]
        arch = definition.arch
        return cls(
            layers=arch.sizes,
            activations=arch.activations,
            loss=arch.loss,
            optimizer=OptimizerConfig("sgd", definition.learning_rate if lr is None else lr),
            rows=len(definition.rows),
            dtype=dtype,
            epochs=epochs,
            order=order,
            init=init,
            seed=seed,
            preset=problem,
        )

    def __post_init__(self) -> None:
        if self.preset is not None:
            self._check_preset()
        check_network(self.layers, self.activations, self.loss)
        opt = self.optimizer
        if opt.name not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {opt.name!r} (choose from {', '.join(OPTIMIZERS)})")
        if opt.nesterov and opt.momentum == 0:
            raise InputError("--nesterov needs a --momentum above 0")
        if (opt.momentum or opt.nesterov) and opt.name != "sgd":
            raise InputError(f"--momentum and --nesterov are sgd's; {opt.name} has none")
        if not (0 <= opt.momentum < 1):
            raise InputError(f"momentum must be in [0, 1), got {opt.momentum:g}")
        if not (math.isfinite(opt.learning_rate) and opt.learning_rate > 0):
            raise InputError(f"learning rate must be a positive finite number, got {opt.learning_rate}")
        for name, value, allowed in [("dtype", self.dtype, DTYPES), ("order", self.order, ORDERS)]:
            if value not in allowed:
                raise InputError(f"unknown {name} {value!r} (choose from {', '.join(allowed)})")
        if self.init not in INITS:
            raise InputError(f"unknown init {self.init!r} (choose from {', '.join(INITS)})")
        for name, count in [("epochs", self.epochs), ("batch size", self.batch_size), ("rows", self.rows)]:
            if count < 1:
                raise InputError(f"{name} must be at least 1, got {count}")
        if self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed}")

    def _check_preset(self) -> None:
        """A preset is the document's network and training, whatever else changes (``with_``)."""
        if self.preset not in PROBLEMS:
            raise InputError(f"unknown problem {self.preset!r} (choose from {', '.join(PROBLEMS)})")
        arch = PROBLEMS[self.preset].arch
        trained = (self.layers, self.activations, self.loss, self.optimizer.name, self.batch_size)
        if trained != (arch.sizes, arch.activations, arch.loss, "sgd", 1) or self.optimizer.momentum:
            raise ValueError(f"the {self.preset} problem is the document's 2-2-1 network, plain SGD, batch size 1")

    @property
    def is_document(self) -> bool:
        return self.preset is not None

    @property
    def problem(self) -> str:
        """``regression``, ``classification``, or ``network`` for a network of one's own."""
        return self.preset or "network"

    @property
    def definition(self) -> Problem:
        if self.preset is None:
            raise ValueError(f"{self.network} is not one of the document's problems")
        return PROBLEMS[self.preset]

    @property
    def arch(self) -> Architecture:
        return Architecture(self.layers, self.activations, self.loss)

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate

    @property
    def tolerance(self) -> Tolerance:
        return network_tolerance(self.epochs) if self.preset is None else tolerance_for(self.preset, self.dtype)

    @property
    def network(self) -> str:
        """``3-5-4-2 tanh,relu,softmax categorical_crossentropy adam(lr 0.001) batch 3``."""
        opt = self.optimizer
        extra = f", momentum {opt.momentum:g}{', nesterov' if opt.nesterov else ''}" if opt.momentum else ""
        return (
            f"{'-'.join(map(str, self.layers))} {','.join(self.activations)} {self.loss} "
            f"{opt.name}(lr {opt.learning_rate:g}{extra}) batch {self.batch_size}"
        )

    @property
    def label(self) -> str:
        """Readable id: ``regression-float64-shuffle-random``, or for a network
        ``3-5-4-2-tanh-relu-softmax-categorical_crossentropy-adam-b3-float64-sequential-seed``."""
        if self.preset is not None:
            return f"{self.preset}-{self.dtype}-{self.order}-{self.init}"
        parts = ["-".join(map(str, self.layers)), *self.activations, self.loss, self.optimizer.name]
        return "-".join([*parts, f"b{self.batch_size}", self.dtype, self.order, self.init])

    def with_(self, **changes: object) -> Spec:
        """A copy with ``changes``; ``lr`` changes the optimizer's learning rate."""
        if "lr" in changes:
            changes["optimizer"] = replace(self.optimizer, learning_rate=float(changes.pop("lr")))  # type: ignore[arg-type]  # a number, as ``lr`` is everywhere
        return replace(self, **changes)  # type: ignore[arg-type]  # dataclasses.replace is loosely typed


def check_network(layers: tuple[int, ...], activations: tuple[str, ...], loss: str) -> None:
    """Refuse, in one line, a network Keras refuses or the harness cannot differentiate."""
    if len(layers) < 2 or any(n < 1 for n in layers):
        raise InputError(f"--layers needs an input and an output width, each at least 1, got {layers}")
    if len(activations) != len(layers) - 1:
        raise InputError(f"{len(layers) - 1} layers after the input need as many activations, got {len(activations)}")
    for name in activations:
        if name not in ACTIVATIONS:
            raise InputError(f"unknown activation {name!r} (choose from {', '.join(ACTIVATIONS)})")
    if loss not in KERAS_LOSSES:
        raise InputError(f"unknown loss {loss!r} (choose from {', '.join(KERAS_LOSSES)})")
    if "softmax" in activations[:-1]:
        raise InputError("softmax belongs to the output layer only")
    out = activations[-1]
    if loss in _CLASSES and (out != "softmax" or layers[-1] < 2):
        raise InputError(f"{loss} needs a softmax output of 2 or more classes (got {out}, {layers[-1]} wide)")
    if out == "softmax" and loss not in _CLASSES:
        raise InputError(
            f"a softmax output needs categorical_crossentropy or sparse_categorical_crossentropy, not {loss}"
        )
    if loss == "binary_crossentropy" and out != "sigmoid":
        raise InputError(
            f"binary_crossentropy needs a sigmoid output (Keras differentiates it through the logits), not {out}"
        )


def row_order(spec: Spec, n_rows: int) -> np.ndarray:
    """Row indices, shape (epochs, n_rows): the sequence both sides are fed."""
    if spec.order == "sequential":
        return np.tile(np.arange(n_rows), (spec.epochs, 1))
    rng = np.random.default_rng((spec.seed, _ORDER_STREAM))
    if spec.order == "shuffle":
        return np.stack([rng.permutation(n_rows) for _ in range(spec.epochs)])
    # "select random row", as the document's algorithm says: draws with replacement
    return rng.integers(0, n_rows, size=(spec.epochs, n_rows))


def seed_params(arch: Architecture, dtype: str) -> Params:
    """The notebooks' start: every weight 0.1, every bias 0."""
    return {key: np.full(shape, 0.1 if key.startswith("W") else 0.0, dtype=dtype) for key, shape in arch.shapes()}


def random_params(arch: Architecture, dtype: str, seed: int) -> Params:
    """Seeded and asymmetric (weights ~ N(0, 0.5^2), biases ~ N(0, 0.1^2)): equal
    weights make the two hidden neurons interchangeable and hide index bugs."""
    rng = np.random.default_rng((seed, _INIT_STREAM))
    return {
        key: rng.normal(0.0, 0.5 if key.startswith("W") else 0.1, size=shape).astype(dtype)
        for key, shape in arch.shapes()
    }
