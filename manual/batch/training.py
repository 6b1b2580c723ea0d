"""Any stack of dense layers, trained on mini-batches, as Keras's ``fit`` trains it.

Row vectors, a batch at a time: Z_k = O_{k-1} W_k + b_k, O_k = act_k(Z_k), with
O_0 the batch of inputs X (B rows). The batch's loss is Keras's
``sum_over_batch_size``: the mean over the batch of each row's loss, and each
row's loss is the mean over its outputs (squared or absolute error, binary
cross-entropy) or the sum over its classes (categorical cross-entropy). Sigmoid
and softmax outputs are differentiated through their logits, as Keras does:
the error signal at the output is then Y_hat - Y.

An epoch's loss is what ``History`` records: Keras's loss tracker, a ``Mean``
weighted by batch size (total += loss B, count += B, then total / count), so a
partial last batch counts for its rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from manual.activations import ACTIVATIONS, derivative_from_output
from manual.batch.optimizers import OPTIMIZERS, Optimizer, OptimizerConfig, make_optimizer
from manual.network import Architecture, Params, Trajectory, copy_params

__all__ = [
    "KERAS_LOSSES",
    "KERAS_PIECES",
    "Pieces",
    "StepState",
    "backward",
    "batch_loss",
    "batch_rows",
    "forward",
    "layer_slope",
    "row_delta",
    "row_losses",
    "step_from",
    "train_batches",
]

KERAS_LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)


def forward(arch: Architecture, params: Params, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """[O_0 = X, O_1, ..., O_L], and Z_L (the output layer's logits)."""
    outputs, z = [X], X
    for k, activation in enumerate(arch.activations, start=1):
        z = outputs[-1] @ params[f"W{k}"] + params[f"b{k}"]  # Z_k = O_{k-1} W_k + b_k
        outputs.append(ACTIVATIONS[activation](z))
    return outputs, z


def _one_hot(Y: np.ndarray, classes: int) -> np.ndarray:
    return (Y.reshape(-1).astype(np.int64)[:, None] == np.arange(classes)).astype(Y.dtype)


def row_losses(loss: str, Y: np.ndarray, Y_hat: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Each row's loss, shape (B,)."""
    if loss == "mean_squared_error":
        return np.mean(np.square(Y - Y_hat), axis=-1)  # mean_j (y_j - o_j)^2
    if loss == "mean_absolute_error":
        return np.mean(np.abs(Y - Y_hat), axis=-1)  # mean_j |y_j - o_j|
    if loss == "binary_crossentropy":  # from the logits z, as sigmoid_cross_entropy_with_logits
        return np.mean(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z))), axis=-1)
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        target = Y if loss == "categorical_crossentropy" else _one_hot(Y, Z.shape[-1])
        shifted = Z - Z.max(axis=-1, keepdims=True)  # softmax_cross_entropy_with_logits
        return np.sum(target * (np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)) - shifted), axis=-1)
    raise ValueError(f"unknown loss {loss!r}")


def row_delta(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
    """dl/dZ_L for each row's own loss l, shape (B, n_out); None for a pairing without one."""
    n = Y_hat.shape[-1]
    if loss == "binary_crossentropy" and activation == "sigmoid":
        return (Y_hat - Y) / n  # through the logits: sigmoid's slope cancels
    if loss == "categorical_crossentropy" and activation == "softmax":
        return Y_hat - Y  # through the logits
    if loss == "sparse_categorical_crossentropy" and activation == "softmax":
        return Y_hat - _one_hot(Y, n)
    if activation == "softmax" or loss not in ("mean_squared_error", "mean_absolute_error"):
        return None
    # d/dY_hat of mean_j (y_j - y_hat_j)^2, or of mean_j |y_j - y_hat_j| (0 where they are equal, as TensorFlow)
    dY_hat = 2 * (Y_hat - Y) / n if loss == "mean_squared_error" else np.sign(Y_hat - Y) / n
    slope = derivative_from_output(activation, Y_hat)
    return dY_hat if slope is None else dY_hat * slope


def batch_loss(values: np.ndarray) -> np.floating:
    """``sum_over_batch_size``: the sum of the rows' losses over the number of rows."""
    total: np.floating = np.sum(values)
    return total / values.dtype.type(len(values))


def _rows(rows: int) -> int:
    return rows


def layer_slope(layer: int, activation: str, output: np.ndarray) -> np.ndarray | None:
    """dO_k/dZ_k of hidden layer k, the same function in every layer (a variant may change one layer's)."""
    return derivative_from_output(activation, output)


@dataclass(frozen=True)
class Pieces:
    """The parts a known-bad variant replaces (manual/batch/bugs.py); the defaults are Keras's."""

    derivative: Callable[[int, str, np.ndarray], np.ndarray | None] = layer_slope
    row_delta: Callable[[str, str, np.ndarray, np.ndarray], np.ndarray | None] = row_delta
    batch_loss: Callable[[np.ndarray], np.floating] = batch_loss
    divisor: Callable[[int], int] = _rows  # dL/dl_b = 1 / B
    optimizers: dict[str, type[Optimizer]] = field(default_factory=lambda: dict(OPTIMIZERS))


KERAS_PIECES = Pieces()


def backward(
    arch: Architecture, params: Params, outputs: list[np.ndarray], Y: np.ndarray, pieces: Pieces = KERAS_PIECES
) -> Params:
    """dL/dW_k and dL/db_k of the batch's loss, for every layer."""
    L, B = arch.layers, len(Y)
    delta = pieces.row_delta(arch.loss, arch.activations[-1], Y, outputs[L])
    if delta is None:
        raise ValueError(f"no gradient for loss {arch.loss!r} after a {arch.activations[-1]!r} output")
    delta = delta / delta.dtype.type(pieces.divisor(B))  # dL/dZ_L, L the batch mean
    grads: Params = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = outputs[k - 1].T @ delta  # dL/dW_k = O_{k-1}^T delta_k
        grads[f"b{k}"] = delta.sum(axis=0)  # dL/db_k = sum over the batch of delta_k
        if k > 1:
            back = delta @ params[f"W{k}"].T  # dL/dO_{k-1} = delta_k W_k^T
            slope = pieces.derivative(k - 1, arch.activations[k - 2], outputs[k - 1])
            delta = back if slope is None else back * slope  # dL/dZ_{k-1}
    return grads


def batch_rows(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Every update's rows, epoch by epoch: each epoch's ``order[e]`` cut into batches of
    ``batch_size``, the last one partial (one batch of them all when it is larger)."""
    return [rows[start : start + batch_size] for rows in order for start in range(0, len(rows), batch_size)]


@dataclass(frozen=True)
class StepState:
    """After one update: the parameters, the optimizer's slots and step count, and the batch's loss
    (computed before the update, as Keras's train step reports it)."""

    params: Params
    slots: dict[str, Params]
    iterations: int
    loss: np.floating


def step_from(
    arch: Architecture,
    config: OptimizerConfig,
    params: Params,
    slots: dict[str, Params] | None,
    iterations: int,
    X: np.ndarray,
    Y: np.ndarray,
    pieces: Pieces = KERAS_PIECES,
) -> StepState:
    """One update on the batch (X, Y) from a given full state: the parameters, the optimizer's
    slots (None: the optimizer's own fresh ones) and its step count."""
    opt = make_optimizer(config, X.dtype.name, pieces.optimizers)
    if slots is not None:
        opt.state = {name: copy_params(values) for name, values in slots.items()}
    opt.iterations = iterations
    new, loss = _update(arch, opt, params, X, Y, pieces)
    return StepState(new, opt.state, opt.iterations, loss)


def _update(
    arch: Architecture, opt: Optimizer, params: Params, X: np.ndarray, Y: np.ndarray, pieces: Pieces
) -> tuple[Params, np.floating]:
    """One optimizer update on the batch (X, Y), and the batch's loss computed before it."""
    outputs, z = forward(arch, params, X)
    loss = pieces.batch_loss(row_losses(arch.loss, Y, outputs[-1], z))
    return opt.apply(params, backward(arch, params, outputs, Y, pieces)), loss


def train_batches(
    arch: Architecture,
    optimizer: OptimizerConfig,
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    pieces: Pieces = KERAS_PIECES,
) -> Trajectory:
    """Every epoch e takes the rows ``order[e]`` in batches of ``batch_size`` (the last one
    partial), one optimizer update per batch; parameters and History's loss per epoch."""
    dtype = X.dtype.type
    opt = make_optimizer(optimizer, X.dtype.name, pieces.optimizers)
    current = copy_params(params)
    history, losses = [], []
    for rows in order:
        total, count = dtype(0), dtype(0)
        for batch in batch_rows(rows[None, :], batch_size):
            current, loss = _update(arch, opt, current, X[batch], Y[batch], pieces)
            total, count = total + loss * dtype(len(batch)), count + dtype(len(batch))  # the loss tracker
        history.append(copy_params(current))
        losses.append(total / count)
    return Trajectory(params=history, losses=np.array(losses, dtype=X.dtype))
