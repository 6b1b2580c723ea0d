"""Any stack of Dense layers, any Keras optimizer, mini-batches: trained by Keras's own code.

``train_batches_plain`` is what a learner writes, one ``model.fit(batch_size=B,
epochs=1, shuffle=False)`` per epoch on that epoch's rows; ``train_batches_fast``
drives the same ``train_step`` over every batch of every epoch inside one
compiled loop and is bit-identical to it (tests/test_network.py holds them
together). The optimizer's state (iterations, moments, accumulators) is reset to
its freshly built values at the start of every run, so one compiled model serves
many runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# isort: off
from reference.keras_model import KerasTrajectory, _sequential, _snapshot, floatx, stacked_trajectory
import keras  # after keras_model, which configures TensorFlow and then imports it quietly
import tensorflow

# isort: on

__all__ = ["batch_gradients_at", "build_network", "train_batch_steps", "train_batches_fast", "train_batches_plain"]

_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def build_network(
    sizes: Sequence[int], activations: Sequence[str], loss: str, dtype: str, optimizer: str, arguments: dict[str, Any]
) -> keras.Model:
    """Dense layers of ``sizes[1:]`` units, compiled with ``keras.optimizers.<optimizer>(**arguments)``."""
    with floatx(dtype):
        model = _sequential(sizes, activations, dtype)
        opt = getattr(keras.optimizers, _CLASSES[optimizer])(**arguments)
        model.compile(optimizer=opt, loss=loss)
        opt.build(model.trainable_variables)
    model.__dict__["_reference_fresh_optimizer"] = [np.array(v.numpy()) for v in opt.variables]
    return model


def _start(model: keras.Model, weights: list[np.ndarray]) -> str:
    dtype: str = model.weights[0].dtype
    model.set_weights([np.asarray(w, dtype=dtype) for w in weights])
    for variable, fresh in zip(model.optimizer.variables, model.__dict__["_reference_fresh_optimizer"], strict=True):
        variable.assign(fresh)
    return dtype


def train_batches_plain(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, order: np.ndarray, batch_size: int
) -> KerasTrajectory:
    """One ``fit`` per epoch on that epoch's rows, in batches of ``batch_size``, weights read after each."""
    dtype = _start(model, weights)
    recorded, losses = [], []
    with floatx(dtype):
        for rows in order:
            history = model.fit(
                X[rows].astype(dtype), Y[rows].astype(dtype), batch_size=batch_size, epochs=1, shuffle=False, verbose=0
            )
            losses.append(history.history["loss"][0])
            recorded.append(_snapshot(model))
    return KerasTrajectory(weights=recorded, losses=np.array(losses, dtype=dtype))


def _compiled_batches(
    model: keras.Model, dtype: str, targets: tuple[int, ...], per_step: bool = False
) -> Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]:
    """``targets``: a row's target shape, () for sparse class labels; static, as Keras's
    losses check the ranks and widths of targets against outputs when they are traced.
    ``per_step``: the tracker starts afresh before every batch, and the batch's loss is
    recorded with the weights after every update (what the audit replays)."""
    cache: dict[tuple[str, tuple[int, ...], bool], Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]]
    cache = model.__dict__.setdefault("_reference_batch_loops", {})
    if (dtype, targets, per_step) in cache:
        return cache[dtype, targets, per_step]
    variables = model.trainable_variables
    inputs = tensorflow.TensorSpec(shape=(None, None, model.inputs[0].shape[-1]), dtype=dtype)
    labels = tensorflow.TensorSpec(shape=(None, None, *targets), dtype=dtype)
    size = tensorflow.TensorSpec(shape=(), dtype="int32")

    @tensorflow.function(input_signature=[inputs, labels, size], reduce_retracing=True)  # type: ignore[untyped-decorator]  # tensorflow is untyped
    def loop(
        X: tensorflow.Tensor, Y: tensorflow.Tensor, batch: tensorflow.Tensor
    ) -> tuple[tensorflow.Tensor, list[tensorflow.Tensor]]:
        epochs, rows = tensorflow.shape(X)[0], tensorflow.shape(X)[1]
        per_epoch = (rows + batch - 1) // batch
        size = epochs * per_epoch if per_step else epochs
        losses = tensorflow.TensorArray(dtype, size=size)
        weights = [tensorflow.TensorArray(dtype, size=size) for _ in variables]
        for e in tensorflow.range(epochs):
            model.reset_metrics()  # as fit does at the start of every epoch
            logs = {"loss": tensorflow.constant(0, dtype=dtype)}
            for start in tensorflow.range(0, rows, batch):
                if per_step:
                    model.reset_metrics()
                logs = model.train_step((X[e, start : start + batch], Y[e, start : start + batch]))
                if per_step:
                    k = e * per_epoch + start // batch
                    losses = losses.write(k, logs["loss"])
                    weights = [w.write(k, v) for w, v in zip(weights, variables, strict=True)]
            if not per_step:
                losses = losses.write(e, logs["loss"])  # the tracker's mean, weighted by batch size
                weights = [w.write(e, v) for w, v in zip(weights, variables, strict=True)]
        return losses.stack(), [w.stack() for w in weights]

    cache[dtype, targets, per_step] = loop
    return loop


def _run_batches(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    per_step: bool,
) -> KerasTrajectory:
    dtype = _start(model, weights)
    with floatx(dtype):
        losses, stacked = _compiled_batches(model, dtype, Y.shape[1:], per_step)(
            X[order].astype(dtype), Y[order].astype(dtype), np.int32(batch_size)
        )
    return stacked_trajectory(losses, stacked, dtype)


def train_batch_steps(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, order: np.ndarray, batch_size: int
) -> KerasTrajectory:
    """``train_batches_fast``, recorded after every update: ``weights[k]`` and ``losses[k]`` (that
    batch's loss, before its update) for the k-th batch, epoch by epoch."""
    return _run_batches(model, weights, X, Y, order, batch_size, per_step=True)


def batch_gradients_at(
    model: keras.Model, states: list[np.ndarray], X: Sequence[np.ndarray], Y: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """dL/dw of the batch's loss at many (weights, batch) points, by ``tf.GradientTape``, one
    point at a time (a partial last batch has another shape): ``states[i]`` stacks the i-th
    weight over the points, ``X[k]``, ``Y[k]`` is the batch at point k. Returns the gradients
    stacked the same way."""
    dtype: str = model.weights[0].dtype
    variables = model.trainable_variables
    grads: list[list[np.ndarray]] = [[] for _ in variables]
    with floatx(dtype):
        for k in range(len(X)):
            for v, state in zip(variables, states, strict=True):
                v.assign(state[k])
            with tensorflow.GradientTape() as tape:
                y_pred = model(X[k], training=True)
                loss = model.compute_loss(x=X[k], y=Y[k], y_pred=y_pred, training=True)
            for g, d in zip(grads, tape.gradient(loss, variables), strict=True):
                g.append(np.asarray(d))
    return [np.stack(g) for g in grads]


def train_batches_fast(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, order: np.ndarray, batch_size: int
) -> KerasTrajectory:
    """The same training as ``train_batches_plain``, all epochs in one call of a compiled loop."""
    return _run_batches(model, weights, X, Y, order, batch_size, per_step=False)
