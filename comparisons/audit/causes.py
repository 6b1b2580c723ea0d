"""The mistakes a network's diagnosis looks for, each as gradients a learner's backprop would compute.

A cause is one wrong piece of a whole backward pass: a layer's slope, the output
delta, a delta taken back through weights already updated. It changes every
gradient below the point where it enters, so one cause explains several tensors
at once and is reported once. A shape is one tensor's own slip on top of the
right gradient: summed over the batch, one row of it, transposed.

Every candidate is computed by manual/batch/training.py's backward with one
piece replaced, in float64, at Keras's state on the step's whole batch: one
backward pass per cause per step, so the cost grows with the network's size
times the number of causes, and the causes with the number of layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from comparisons.audit.findings import ForcedSteps
from manual.activations import sigmoid
from manual.batch.training import KERAS_PIECES, Pieces, backward, forward, layer_slope, row_delta
from manual.network import Architecture, Params, from_document_order

__all__ = ["OWN_SLOPE", "SLOPES", "Cause", "Gradients", "causes", "gradients"]

Slope = Callable[[np.ndarray], np.ndarray]

# Slopes written in terms of a layer's output O, as learners write them; each activation's own is
# derivative_from_output's, and any other one in a layer's delta is an activation-derivative finding.
SLOPES: dict[str, Slope] = {
    "1 (the slope left out)": np.ones_like,
    "1 - O": lambda a: 1 - a,
    "1 - O^2 (tanh's)": lambda a: 1 - a * a,
    "O(1 - O) (sigmoid's)": lambda a: a * (1 - a),
    "O > 0 (relu's)": lambda a: (a > 0).astype(a.dtype),
    "O (the output itself)": lambda a: a,
    "1 - tanh(O)^2 (tanh's slope taken at the output, not at Z)": lambda a: 1 - np.tanh(a) ** 2,
    "sigmoid(O)(1 - sigmoid(O)) (sigmoid's slope taken at the output, not at Z)": lambda a: (
        sigmoid(a) * (1 - sigmoid(a))
    ),
}

# each activation's own slope, as SLOPES names it; linear's is 1
OWN_SLOPE = {
    "linear": "1 (the slope left out)",
    "tanh": "1 - O^2 (tanh's)",
    "sigmoid": "O(1 - O) (sigmoid's)",
    "relu": "O > 0 (relu's)",
}


@dataclass(frozen=True)
class Cause:
    """One wrong piece of backprop. ``layer``: where it enters (stale-weights: the layer whose
    updated weights were used); ``what``: the piece as the learner wrote it, for the message."""

    kind: str  # "loss-gradient", "activation-derivative", "stale-weights" or "transposed" (backprop through W, not W.T)
    layer: int
    what: str
    pieces: Pieces = KERAS_PIECES  # stale-weights: Keras's pieces, through the updated weights
    factor: float | None = None  # a loss-gradient that is a constant times the right one


def _hidden_slope(layer: int, wrong: Slope) -> Pieces:
    def derivative(k: int, activation: str, output: np.ndarray) -> np.ndarray | None:
        return wrong(output) if k == layer else layer_slope(k, activation, output)

    return Pieces(derivative=derivative)


def _output_slope(wrong: Slope) -> Pieces:
    """A loss whose derivative goes through the output's slope (squared or absolute error), with another slope."""

    def delta(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
        dY_hat = row_delta(loss, "linear", Y, Y_hat)  # the loss's own derivative: a linear output's slope is 1
        return None if dY_hat is None else dY_hat * wrong(Y_hat)

    return Pieces(row_delta=delta)


def _delta(wrong: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> Pieces:
    """An output delta written another way: ``wrong(right delta, Y_hat, Y)``."""

    def delta(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
        right = row_delta(loss, activation, Y, Y_hat)
        return None if right is None else wrong(right, Y_hat, Y)

    return Pieces(row_delta=delta)


def _loss_causes(arch: Architecture) -> list[Cause]:
    L, n, out = arch.layers, arch.sizes[-1], arch.activations[-1]
    found = []
    if out == "softmax":
        found.append(
            Cause("loss-gradient", L, "Y_hat, without subtracting the target Y", _delta(lambda d, Y_hat, Y: Y_hat))
        )
        if n > 1:
            found.append(
                Cause(
                    "loss-gradient",
                    L,
                    f"(Y_hat - Y) / {n}: cross-entropy averaged over the {n} classes, where it sums over them",
                    _delta(lambda d, Y_hat, Y: d / n),
                    1 / n,
                )
            )
    if arch.loss == "mean_squared_error":
        found.append(
            Cause(
                "loss-gradient",
                L,
                "missing the factor 2 of d/dY_hat (Y - Y_hat)^2 = -2 (Y - Y_hat)",
                _delta(lambda d, Y_hat, Y: d / 2),
                0.5,
            )
        )
    if n > 1 and out != "softmax" and arch.loss in ("mean_squared_error", "mean_absolute_error", "binary_crossentropy"):
        found.append(
            Cause(
                "loss-gradient",
                L,
                f"summed over the {n} outputs, where Keras's loss averages them (divide by {n})",
                _delta(lambda d, Y_hat, Y: d * n),
                float(n),
            )
        )
    if arch.loss == "binary_crossentropy" and out == "sigmoid":
        found.append(
            Cause(
                "loss-gradient",
                L,
                "(Y_hat - Y) times sigmoid's slope O(1 - O), which cross-entropy's derivative already cancels",
                _delta(lambda d, Y_hat, Y: d * Y_hat * (1 - Y_hat)),
            )
        )
        found.append(
            Cause(
                "loss-gradient",
                L,
                "dL/dY_hat = (Y_hat - Y) / (Y_hat (1 - Y_hat)), not dL/dZ: through the sigmoid it is Y_hat - Y",
                _delta(lambda d, Y_hat, Y: d / (Y_hat * (1 - Y_hat))),
            )
        )
    if out in OWN_SLOPE and arch.loss in ("mean_squared_error", "mean_absolute_error"):
        found += [
            Cause("activation-derivative", L, name, _output_slope(slope))
            for name, slope in SLOPES.items()
            if name != OWN_SLOPE[out]
        ]
    return found


def causes(arch: Architecture) -> list[Cause]:
    """Every cause the network admits, the output's first, then each hidden layer's from the last."""
    found = _loss_causes(arch)
    for layer in range(arch.layers - 1, 0, -1):
        activation = arch.activations[layer - 1]
        if activation in OWN_SLOPE:
            found += [
                Cause("activation-derivative", layer, name, _hidden_slope(layer, slope))
                for name, slope in SLOPES.items()
                if name != OWN_SLOPE[activation]
            ]
    found += [Cause("stale-weights", m, f"W{m}") for m in range(arch.layers, 1, -1)]
    # a square W_m lets dZ_m @ W_m run where dZ_m @ W_m.T belongs
    found += [Cause("transposed", m, f"W{m}") for m in range(arch.layers, 1, -1) if arch.sizes[m - 1] == arch.sizes[m]]
    return found


def _flat(arch: Architecture, grads: Params) -> np.ndarray:
    return np.concatenate([grads[key].ravel() for key, _ in arch.shapes()])


@dataclass(frozen=True)
class Gradients:
    """(N, P) in document order, over every forced step: the right gradient by manual/ (the
    reference a cause is told apart from), each cause's, and, at batches of more than one row,
    one row's alone (its own loss's gradient: the batch's is the mean of them)."""

    right: np.ndarray
    by_cause: list[np.ndarray]
    first_row: np.ndarray
    last_row: np.ndarray
    batch: np.ndarray  # (N,) each step's number of rows


def gradients(arch: Architecture, forced: list[ForcedSteps], found: list[Cause]) -> Gradients:
    rows: list[list[np.ndarray]] = []
    for f in forced:
        for k in range(len(f.states)):
            state = from_document_order(arch, np.asarray(f.states[k], dtype=np.float64))
            new = from_document_order(arch, np.asarray(f.user_new[k], dtype=np.float64))
            X = np.asarray(f.batch_x[k], dtype=np.float64)
            Y = np.asarray(f.batch_y[k], dtype=np.float64)
            rows.append(_step(arch, state, new, X, Y, found))
    columns = [np.array(c) for c in zip(*rows, strict=True)]
    right, first, last, batch = columns[:4]
    return Gradients(right, columns[4:], first, last, batch)


def _step(
    arch: Architecture, state: Params, new: Params, X: np.ndarray, Y: np.ndarray, found: list[Cause]
) -> list[np.ndarray]:
    outputs, _ = forward(arch, state, X)
    right = _flat(arch, backward(arch, state, outputs, Y))
    rows = [right] * 2
    if len(X) > 1:
        rows = [
            _flat(arch, backward(arch, state, forward(arch, state, X[r])[0], Y[r]))
            for r in (slice(0, 1), slice(-1, None))
        ]
    by_cause = []
    for cause in found:
        W = f"W{cause.layer}"
        through = {**state, W: new[W]} if cause.kind == "stale-weights" else state
        through = {**state, W: state[W].T} if cause.kind == "transposed" else through
        by_cause.append(_flat(arch, backward(arch, through, outputs, Y, cause.pieces)))
    return [right, *rows, np.array(float(len(X))), *by_cause]
