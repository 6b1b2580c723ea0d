"""Keras's own ``train_step``, over any stack of Dense layers, any optimizer and any batch size.

``train_plain`` is what a learner writes, one ``model.fit(batch_size=B, epochs=1,
shuffle=False)`` per epoch on that epoch's rows; ``train_fast`` drives the same
``train_step`` over every batch of every epoch inside one compiled loop and is
bit-identical to it (tests/test_reference.py and tests/test_network.py hold them
together); ``train_steps`` records after every batch, for the audit. The
document's networks are batch size 1 with plain SGD. Every run starts the
optimizer from its freshly built state, so one compiled model serves many runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# isort: off
from reference.keras_model import floatx, reset_optimizer
import keras  # after keras_model, which configures TensorFlow and then imports it quietly
import tensorflow

# isort: on

__all__ = [
    "SLOTS",
    "KerasTrajectory",
    "gradients_at",
    "replay_optimizer",
    "slot_variables",
    "train_fast",
    "train_plain",
    "train_steps",
]


@dataclass(frozen=True)
class KerasTrajectory:
    """``weights[k]`` (``get_weights`` order) and ``losses[k]`` after record k: an epoch, or a batch."""

    weights: list[list[np.ndarray]]
    losses: np.ndarray
    # per slot name (m, v, s), the optimizer's state after each record, one array per weight
    # stacked over the records; recorded by ``train_steps(slots=True)`` only
    slots: dict[str, list[np.ndarray]] = field(default_factory=dict)


def _start(model: keras.Model, weights: list[np.ndarray], learning_rate: float | None) -> str:
    dtype: str = model.weights[0].dtype
    model.set_weights([np.asarray(w, dtype=dtype) for w in weights])
    reset_optimizer(model, learning_rate)
    return dtype


def train_plain(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int = 1,
    learning_rate: float | None = None,
) -> KerasTrajectory:
    """One ``fit`` per epoch on that epoch's rows, in batches of ``batch_size``, weights read after each."""
    dtype = _start(model, weights, learning_rate)
    recorded, losses = [], []
    with floatx(dtype):  # else fit casts the rows to float32
        for rows in order:
            history = model.fit(
                X[rows].astype(dtype), Y[rows].astype(dtype), batch_size=batch_size, epochs=1, shuffle=False, verbose=0
            )
            losses.append(history.history["loss"][0])
            recorded.append([np.array(w) for w in model.get_weights()])
    return KerasTrajectory(weights=recorded, losses=np.array(losses, dtype=dtype))


# Where each optimizer keeps its per-variable state, by the manual side's names (manual/batch/optimizers.py)
SLOTS = {
    "SGD": (("m", "momentums"),),
    "Adam": (("m", "_momentums"), ("v", "_velocities")),
    "RMSprop": (("v", "_velocities"),),
    "Adagrad": (("s", "_accumulators"),),
}


def slot_variables(model: keras.Model) -> list[tuple[str, list[Any]]]:
    """The optimizer's state, per slot: its name and one variable per weight (SGD without momentum
    has none)."""
    optimizer = model.optimizer
    found = [(name, getattr(optimizer, attribute, None)) for name, attribute in SLOTS[type(optimizer).__name__]]
    return [(name, list(variables)) for name, variables in found if variables]


def _compiled_batches(
    model: keras.Model, dtype: str, targets: tuple[int, ...], per_step: bool = False, slots: bool = False
) -> Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]:
    """``targets``: a row's target shape, () for sparse class labels; static, as Keras's
    losses check the ranks and widths of targets against outputs when they are traced.
    ``per_step``: the tracker starts afresh before every batch, and the batch's loss is
    recorded with the weights after every update (what the audit replays); ``slots``: the
    optimizer's state is recorded after them too, slot by slot (what the per-step check starts from)."""
    cache: dict[
        tuple[str, tuple[int, ...], bool, bool], Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]
    ]
    cache = model.__dict__.setdefault("_reference_batch_loops", {})
    if (dtype, targets, per_step, slots) in cache:
        return cache[dtype, targets, per_step, slots]
    variables = list(model.trainable_variables)
    if slots:
        variables += [v for _, vs in slot_variables(model) for v in vs]
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

    cache[dtype, targets, per_step, slots] = loop
    return loop


def _run(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    learning_rate: float | None,
    per_step: bool,
    slots: bool = False,
) -> KerasTrajectory:
    dtype = _start(model, weights, learning_rate)
    with floatx(dtype):
        losses, stacked = _compiled_batches(model, dtype, Y.shape[1:], per_step, slots)(
            X[order].astype(dtype), Y[order].astype(dtype), np.int32(batch_size)
        )
    per_variable = [np.asarray(w) for w in stacked]
    weights, state = per_variable[: len(model.trainable_variables)], per_variable[len(model.trainable_variables) :]
    return KerasTrajectory(
        weights=[[w[k] for w in weights] for k in range(len(losses))],
        losses=np.asarray(losses, dtype=dtype),
        slots=_by_slot(model, state) if slots else {},
    )


def _by_slot(model: keras.Model, state: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """The recorded optimizer variables, per slot name: one array per weight, stacked over the records."""
    by_slot, start = {}, 0
    for name, variables in slot_variables(model):
        by_slot[name] = state[start : start + len(variables)]
        start += len(variables)
    return by_slot


def train_fast(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int = 1,
    learning_rate: float | None = None,
) -> KerasTrajectory:
    """The same training as ``train_plain``, all epochs in one call of a compiled loop: Python is
    not re-entered once per epoch."""
    return _run(model, weights, X, Y, order, batch_size, learning_rate, per_step=False)


def train_steps(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int = 1,
    learning_rate: float | None = None,
    slots: bool = False,
) -> KerasTrajectory:
    """``train_fast``, recorded after every update: ``weights[k]`` and ``losses[k]`` (that batch's
    loss, before its update) for the k-th batch, epoch by epoch; ``slots``: the optimizer's state too."""
    return _run(model, weights, X, Y, order, batch_size, learning_rate, per_step=True, slots=slots)


def _compiled_gradient(
    model: keras.Model, dtype: str, targets: tuple[int, ...]
) -> Callable[..., list[tensorflow.Tensor]]:
    """One graph that sets the weights to a state and tapes the batch loss's gradient there; a
    batch of any length (a partial last batch is shorter) runs the same graph."""
    cache: dict[tuple[str, tuple[int, ...]], Callable[..., list[tensorflow.Tensor]]]
    cache = model.__dict__.setdefault("_reference_gradients", {})
    if (dtype, targets) in cache:
        return cache[dtype, targets]
    variables = model.trainable_variables
    states = [tensorflow.TensorSpec(shape=v.shape, dtype=dtype) for v in variables]
    inputs = tensorflow.TensorSpec(shape=(None, model.inputs[0].shape[-1]), dtype=dtype)
    labels = tensorflow.TensorSpec(shape=(None, *targets), dtype=dtype)

    @tensorflow.function(input_signature=[states, inputs, labels], reduce_retracing=True)  # type: ignore[untyped-decorator]  # tensorflow is untyped
    def gradient(state: list[tensorflow.Tensor], X: tensorflow.Tensor, Y: tensorflow.Tensor) -> list[tensorflow.Tensor]:
        for v, value in zip(variables, state, strict=True):
            v.assign(value)
        with tensorflow.GradientTape() as tape:
            Y_pred = model(X, training=True)
            loss = model.compute_loss(x=X, y=Y, y_pred=Y_pred, training=True)
        return list(tape.gradient(loss, variables))

    cache[dtype, targets] = gradient
    return gradient


def gradients_at(
    model: keras.Model, states: Sequence[np.ndarray], X: Sequence[np.ndarray], Y: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """dL/dw of the batch's loss at many (weights, batch) points, by ``tf.GradientTape``:
    ``states[i]`` stacks the i-th weight (``get_weights`` order) over the points, ``X[k]``,
    ``Y[k]`` is the batch at point k. Returns the gradients stacked the same way. The model's
    weights are left changed."""
    dtype: str = model.weights[0].dtype
    grads: list[list[np.ndarray]] = [[] for _ in states]
    with floatx(dtype):
        gradient = _compiled_gradient(model, dtype, tuple(np.shape(Y[0])[1:]))
        for k in range(len(X)):
            at = gradient(
                [np.asarray(s[k], dtype=dtype) for s in states],
                np.asarray(X[k], dtype=dtype),
                np.asarray(Y[k], dtype=dtype),
            )
            for g, d in zip(grads, at, strict=True):
                g.append(np.asarray(d))
    return [np.stack(g) for g in grads]


def _compiled_replay(
    optimizer: keras.optimizers.Optimizer, variables: Sequence[keras.Variable]
) -> Callable[..., list[tensorflow.Tensor]]:
    """One graph that replays the optimizer over many steps: at each, the variables set to the
    step's values, one ``optimizer.apply`` with its gradients, the variables read back. A graph, as
    ``train_step`` runs it under ``fit``: Grappler rewrites both alike (RMSprop's and Adagrad's
    x / sqrt(y) into x * rsqrt(y)). The optimizer's state carries over from step to step."""
    cache: dict[str, Callable[..., list[tensorflow.Tensor]]] = optimizer.__dict__.setdefault("_reference_replay", {})
    if "loop" in cache:
        return cache["loop"]
    dtype = variables[0].dtype
    stacked = [tensorflow.TensorSpec(shape=(None, *v.shape), dtype=dtype) for v in variables]

    @tensorflow.function(input_signature=[stacked, stacked], reduce_retracing=True)  # type: ignore[untyped-decorator]  # tensorflow is untyped
    def loop(before: list[tensorflow.Tensor], grads: list[tensorflow.Tensor]) -> list[tensorflow.Tensor]:
        steps = tensorflow.shape(before[0])[0]
        after = [tensorflow.TensorArray(dtype, size=steps) for _ in variables]
        for t in tensorflow.range(steps):
            for v, b in zip(variables, before, strict=True):
                v.assign(b[t])
            optimizer.apply([g[t] for g in grads], variables)
            after = [a.write(t, v) for a, v in zip(after, variables, strict=True)]
        return [a.stack() for a in after]

    cache["loop"] = loop
    return loop


def replay_optimizer(
    optimizer: keras.optimizers.Optimizer,
    variables: Sequence[keras.Variable],
    before: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
) -> list[np.ndarray]:
    """Keras's own optimizer on a given sequence of (parameters, gradient) pairs, from the same
    state: ``before[i]`` and ``grads[i]`` stack the i-th variable over the steps; at step t the
    variables are set to ``before[i][t]``, the optimizer applies ``grads[i][t]``, and the values
    read back are step t's. The optimizer's own state (moments, accumulators, iterations) carries
    over from step to step as Keras keeps it, from wherever it stands; the variables are left changed."""
    dtype: str = variables[0].dtype
    with floatx(dtype):
        after = _compiled_replay(optimizer, variables)(
            [np.asarray(b, dtype=dtype) for b in before], [np.asarray(g, dtype=dtype) for g in grads]
        )
    return [np.asarray(a) for a in after]
