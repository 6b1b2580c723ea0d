"""Any dense network: its spec, its data, and both sides trained from identical weights.

A ``NetworkSpec`` is to a network of the user's what ``RunSpec`` is to the
document's two problems: layer sizes, activations, loss, optimizer, batch size,
dtype, epochs, row order, initial weights and seed. Its data is a seeded
synthetic set shaped for the network and loss (``--rows``) or a CSV
(``--data``). The manual side is manual/batch/training.py; Keras's is
reference/minibatch.py, run as a job of reference/jobs.py, which compiles one
model per network, dtype, optimizer and device and reuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons import cache
from comparisons.comparison import Comparison
from comparisons.errors import InputError
from comparisons.run import keras_initial_params, trajectory_frame
from comparisons.spec import DTYPES, INITS, ORDERS, random_params, row_order, seed_params
from comparisons.tolerances import Tolerance, network_tolerance
from manual import Architecture, Params, parameter_names, to_keras_weights
from manual.activations import ACTIVATIONS
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OPTIMIZERS, OptimizerConfig
from manual.batch.training import KERAS_LOSSES, KERAS_PIECES, Pieces, train_batches
from reference import runner
from reference.protocol import unnumbered

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "NetworkSpec",
    "check_network",
    "compare_network",
    "network_data",
    "output_activation",
    "read_network_csv",
    "synthetic_data",
]

# Keras's own defaults: SGD's 0.01, the adaptive optimizers' 0.001
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.001}
_DATA_STREAM = 2  # after spec.py's initial weights (0) and row order (1)
_CLASSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def output_activation(loss: str) -> str:
    """The output activation a loss goes with when none is given."""
    return {"binary_crossentropy": "sigmoid", **dict.fromkeys(_CLASSES, "softmax")}.get(loss, "linear")


@dataclass(frozen=True)
class NetworkSpec:
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str = "mean_squared_error"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int = 1
    rows: int = 16  # of synthetic data; a CSV brings its own
    dtype: str = "float64"
    epochs: int = 20
    order: str = "sequential"
    init: str = "seed"
    seed: int = 0

    def __post_init__(self) -> None:
        check_network(self.layers, self.activations, self.loss)
        if self.optimizer.name not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer.name!r} (choose from {', '.join(OPTIMIZERS)})")
        if self.optimizer.nesterov and self.optimizer.momentum == 0:
            raise InputError("--nesterov needs a --momentum above 0")
        if (self.optimizer.momentum or self.optimizer.nesterov) and self.optimizer.name != "sgd":
            raise InputError(f"--momentum and --nesterov are sgd's; {self.optimizer.name} has none")
        if not (0 <= self.optimizer.momentum < 1):
            raise InputError(f"momentum must be in [0, 1), got {self.optimizer.momentum:g}")
        if not (math.isfinite(self.optimizer.learning_rate) and self.optimizer.learning_rate > 0):
            raise InputError(f"learning rate must be a positive finite number, got {self.optimizer.learning_rate}")
        for name, value, allowed in [("dtype", self.dtype, DTYPES), ("order", self.order, ORDERS)]:
            if value not in allowed:
                raise InputError(f"unknown {name} {value!r} (choose from {', '.join(allowed)})")
        if self.init not in INITS:
            raise InputError(f"unknown init {self.init!r} (choose from {', '.join(INITS)})")
        if self.batch_size < 1 or self.rows < 1 or self.epochs < 1:
            raise InputError("batch size, rows and epochs must be at least 1")

    @property
    def arch(self) -> Architecture:
        return Architecture(self.layers, self.activations, self.loss)

    @property
    def problem(self) -> str:
        return "network"

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate

    @property
    def tolerance(self) -> Tolerance:
        return network_tolerance(self.epochs)

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
        """Readable id: ``3-5-4-2-tanh-relu-softmax-categorical_crossentropy-adam-b3-float64-sequential-seed``."""
        parts = ["-".join(map(str, self.layers)), *self.activations, self.loss, self.optimizer.name]
        return "-".join([*parts, f"b{self.batch_size}", self.dtype, self.order, self.init])

    def keras_settings(
        self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, weights: list[np.ndarray]
    ) -> dict[str, object]:
        """Everything a Keras run of this network depends on, for the cache's key."""
        return {
            "sizes": self.layers,
            "activations": self.activations,
            "loss": self.loss,
            "dtype": self.dtype,
            "optimizer": repr(self.optimizer),
            "batch_size": self.batch_size,
            "inputs": cache.data_hash(X, Y, order, *weights),
        }

    def with_(self, **changes: object) -> NetworkSpec:
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


def synthetic_data(spec: NetworkSpec) -> tuple[np.ndarray, np.ndarray]:
    """Seeded rows shaped for the network and loss: features ~ N(0, 1); targets real
    (squared or absolute error), 0/1 (binary), one-hot or integer classes."""
    rng = np.random.default_rng((spec.seed, _DATA_STREAM))
    n_in, n_out = spec.layers[0], spec.layers[-1]
    X = rng.normal(size=(spec.rows, n_in))
    if spec.loss == "binary_crossentropy":
        Y = rng.integers(0, 2, size=(spec.rows, n_out)).astype(float)
    elif spec.loss in _CLASSES:
        labels = rng.integers(0, n_out, size=spec.rows)
        Y = np.eye(n_out)[labels] if spec.loss == "categorical_crossentropy" else labels.astype(float)
    else:
        Y = rng.normal(size=(spec.rows, n_out))
    return X.astype(spec.dtype), Y.astype(spec.dtype)


def read_network_csv(
    path: str | Path, targets: list[str], features: list[str] | None, spec: NetworkSpec
) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) from a CSV: ``targets`` columns, features the others (or ``features``); each
    checked against the network's widths and the loss's kind of target, in one line."""
    from comparisons.datasets import read_table

    table = read_table(Path(path), [*targets, *(features or [])], every_column=features is None)
    features = features or [c for c in table.columns if c not in targets]
    if len(features) != spec.layers[0]:
        raise InputError(
            f"{path}: {len(features)} feature columns ({', '.join(features)}) for an input of {spec.layers[0]}"
        )
    width = 1 if spec.loss == "sparse_categorical_crossentropy" else spec.layers[-1]
    if len(targets) != width:
        raise InputError(
            f"{path}: {len(targets)} target columns for {spec.loss} on an output of {spec.layers[-1]} (needs {width})"
        )
    X, Y = table[features].to_numpy(dtype="float64"), table[targets].to_numpy(dtype="float64")
    if spec.loss == "sparse_categorical_crossentropy":
        Y = Y[:, 0]
        bad = ~np.isin(Y, np.arange(spec.layers[-1]))
        if bad.any():
            raise InputError(
                f"{path}: row {int(np.argmax(bad)) + 2}: class {Y[bad][0]:g} is not in 0..{spec.layers[-1] - 1}"
            )
    elif spec.loss in ("binary_crossentropy", "categorical_crossentropy"):
        outside = ~((Y >= 0) & (Y <= 1)).all(axis=1)
        if outside.any():
            raise InputError(f"{path}: row {int(np.argmax(outside)) + 2}: {spec.loss} targets must be in [0, 1]")
    with np.errstate(over="ignore"):
        X, Y = X.astype(spec.dtype), Y.astype(spec.dtype)
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise InputError(f"{path}: values too large for {spec.dtype}")
    return X, Y


def network_data(spec: NetworkSpec, data: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    return synthetic_data(spec) if data is None else (data[0].astype(spec.dtype), data[1].astype(spec.dtype))


def initial_network_params(spec: NetworkSpec) -> Params:
    arch = spec.arch
    if spec.init == "seed":
        return seed_params(arch, spec.dtype)
    if spec.init == "random":
        return random_params(arch, spec.dtype, spec.seed)
    return keras_initial_params(arch, spec.dtype, spec.seed)


def network_job(spec: NetworkSpec) -> dict[str, object]:
    """The arguments every Keras job on this network shares: its layers, loss, dtype and optimizer."""
    return {
        "sizes": list(spec.layers),
        "activations": list(spec.activations),
        "loss": spec.loss,
        "dtype": spec.dtype,
        "optimizer": spec.optimizer.name,
        "arguments": spec.optimizer.keras_arguments(),
    }


def run_network_manual(
    spec: NetworkSpec, params: Params, data: tuple[np.ndarray, np.ndarray] | None = None, pieces: Pieces = KERAS_PIECES
) -> pd.DataFrame:
    X, Y = network_data(spec, data)
    result = train_batches(spec.arch, spec.optimizer, params, X, Y, row_order(spec, len(X)), spec.batch_size, pieces)
    return trajectory_frame(spec.arch, result.params, result.losses)


def run_network_keras(
    spec: NetworkSpec, params: Params, data: tuple[np.ndarray, np.ndarray] | None = None, path: str = "fast"
) -> pd.DataFrame:
    """Keras's trajectory: ``fast`` (one compiled loop) or ``plain`` (one ``fit`` per epoch); bit-identical."""
    arch = spec.arch
    X, Y = network_data(spec, data)
    order = row_order(spec, len(X))
    weights = to_keras_weights(arch, params)

    def compute() -> dict[str, np.ndarray]:
        job = network_job(spec) | {"X": X, "Y": Y, "order": order, "batch_size": spec.batch_size}
        result = runner.run("network_trajectory", **job, weights=weights, path=path)
        # plain arrays in document order (Keras's weight order, each raveled), never a frame's columns
        stacked = unnumbered("w", result)
        return {"values": np.column_stack([result["losses"], *(w.reshape(len(w), -1) for w in stacked)])}

    settings = spec.keras_settings(X, Y, order, weights) | {"path": path}
    values = cache.fetch("keras-network-trajectory", settings, compute)
    table = pd.DataFrame(values["values"], columns=["loss", *(name for _, _, name in parameter_names(arch))])
    return pd.concat([pd.DataFrame({"epoch": np.arange(1, len(table) + 1)}), table], axis=1)


def manual_pieces(spec: NetworkSpec, implementation: str, rows: int) -> Pieces:
    """``minibatch`` (the correct trainer) or a known-bad variant that applies to the spec
    trained on ``rows`` rows (a batch is never more than them)."""
    if implementation == "minibatch":
        return KERAS_PIECES
    if implementation not in MINIBATCH_BUGS:
        choices = ", ".join(["minibatch", *MINIBATCH_BUGS])
        raise InputError(f"unknown implementation {implementation!r} for a network (choose from {choices})")
    bug = MINIBATCH_BUGS[implementation]
    if not bug.applies(spec.arch, spec.optimizer, min(spec.batch_size, rows)):
        raise InputError(f"known bug {implementation!r} ({bug.diagnosis}) does not apply to {spec.network}")
    return bug.implementation


def compare_network(
    spec: NetworkSpec, implementation: str = "minibatch", data: tuple[np.ndarray, np.ndarray] | None = None
) -> Comparison:
    """Both sides from the same initial weights over the same batches, diffed after every epoch."""
    params = initial_network_params(spec)
    pieces = manual_pieces(spec, implementation, len(network_data(spec, data)[0]))
    manual = run_network_manual(spec, params, data, pieces)
    return Comparison(spec=spec, manual=manual, keras=run_network_keras(spec, params, data))
