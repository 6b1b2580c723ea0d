"""The document's network as a Keras model, trained by Keras's own ``model.fit``.

Knows nothing of manual/: it takes layer sizes, Keras activation and loss names,
initial weights as a list in ``get_weights`` order, and the exact row sequence.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from reference import numerics

numerics.configure()  # before tensorflow's first import; reference/numerics.py says why


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """TensorFlow's C++ start-up logs (no CUDA driver, cuInit failed) go straight to fd 2,
    before TF_CPP_MIN_LOG_LEVEL is read. A Python exception still surfaces normally."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to protect
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with _quiet_native_stderr():
    import keras  # must follow numerics.configure()
    import tensorflow

    tensorflow.config.list_physical_devices()  # device discovery logs its CUDA complaints now, quietly
import numpy as np  # noqa: E402

__all__ = [
    "KerasTrajectory",
    "build_model",
    "floatx",
    "gradients_at",
    "initial_weights",
    "train_fast",
    "train_plain",
    "train_steps",
]


@dataclass(frozen=True)
class KerasTrajectory:
    """``weights[e]`` (``get_weights`` order) and ``losses[e]`` (from History) after epoch e + 1."""

    weights: list[list[np.ndarray]]
    losses: np.ndarray


@contextlib.contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Keras creates the loss, the loss tracker and the learning rate in floatx, and casts float input data to it."""
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


def _sequential(sizes: Sequence[int], activations: Sequence[str], dtype: str) -> keras.Sequential:
    layers = [
        keras.layers.Dense(units, activation=act, dtype=dtype)
        for units, act in zip(sizes[1:], activations, strict=True)
    ]
    return keras.Sequential([keras.Input(shape=(sizes[0],), dtype=dtype), *layers])


def build_model(sizes: Sequence[int], activations: Sequence[str], loss: str, dtype: str, lr: float) -> keras.Model:
    """Dense layers of ``sizes[1:]`` units, compiled with plain SGD (no momentum)."""
    with floatx(dtype):
        model = _sequential(sizes, activations, dtype)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=loss)
    return model


def initial_weights(sizes: Sequence[int], activations: Sequence[str], dtype: str, seed: int) -> list[np.ndarray]:
    """Keras's default initializers (Glorot-uniform kernels, zero biases), seeded."""
    keras.utils.set_random_seed(seed)
    with floatx(dtype):
        model = _sequential(sizes, activations, dtype)
    return [np.array(w) for w in model.get_weights()]


def _start(model: keras.Model, weights: list[np.ndarray], lr: float) -> str:
    dtype: str = model.weights[0].dtype
    model.set_weights([np.asarray(w, dtype=dtype) for w in weights])
    model.optimizer.learning_rate.assign(lr)
    return dtype


def _snapshot(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def train_plain(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float
) -> KerasTrajectory:
    """The notebook's way: one ``model.fit(epochs=1, batch_size=1, shuffle=False)`` per epoch,
    on that epoch's rows, weights read after each. About 50 ms an epoch on a 2-core machine."""
    dtype = _start(model, weights, lr)
    recorded, losses = [], []
    with floatx(dtype):  # else fit casts the rows to float32
        for rows in order:
            history = model.fit(
                X[rows].astype(dtype), y[rows].astype(dtype), batch_size=1, epochs=1, shuffle=False, verbose=0
            )
            losses.append(history.history["loss"][0])
            recorded.append(_snapshot(model))
    return KerasTrajectory(weights=recorded, losses=np.array(losses, dtype=dtype))


def _compiled_loop(
    model: keras.Model, dtype: str, per_step: bool
) -> Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]:
    """Keras's own ``train_step`` (forward pass, loss, loss tracker, gradients, SGD
    update: what ``fit`` compiles into its train function), driven row by row and
    epoch by epoch inside one TensorFlow graph. Built once per model and mode.

    Per epoch, the loss tracker starts afresh as ``fit`` does, and its mean after
    the epoch's rows is recorded with the weights. ``per_step``: the tracker starts
    afresh before every row instead, so what it holds after the row is that row's
    loss, recorded with the weights after every update.
    """
    cache: dict[bool, Callable[..., tuple[tensorflow.Tensor, list[tensorflow.Tensor]]]]
    cache = model.__dict__.setdefault("_reference_loops", {})
    if per_step in cache:
        return cache[per_step]
    variables = model.trainable_variables
    spec = tensorflow.TensorSpec(shape=(None, None, None), dtype=dtype)

    @tensorflow.function(input_signature=[spec, spec], reduce_retracing=True)  # type: ignore[untyped-decorator]  # tensorflow is untyped
    def loop(X: tensorflow.Tensor, y: tensorflow.Tensor) -> tuple[tensorflow.Tensor, list[tensorflow.Tensor]]:
        epochs, rows = tensorflow.shape(X)[0], tensorflow.shape(X)[1]
        size = epochs * rows if per_step else epochs
        losses = tensorflow.TensorArray(dtype, size=size)
        weights = [tensorflow.TensorArray(dtype, size=size) for _ in variables]
        for e in tensorflow.range(epochs):
            model.reset_metrics()  # as fit does at the start of every epoch
            logs = {"loss": tensorflow.constant(0, dtype=dtype)}
            for i in tensorflow.range(rows):
                if per_step:
                    model.reset_metrics()
                logs = model.train_step((X[e, i : i + 1], y[e, i : i + 1]))
                if per_step:
                    losses = losses.write(e * rows + i, logs["loss"])
                    weights = [w.write(e * rows + i, v) for w, v in zip(weights, variables, strict=True)]
            if not per_step:
                losses = losses.write(e, logs["loss"])  # the tracker's mean over this epoch's rows
                weights = [w.write(e, v) for w, v in zip(weights, variables, strict=True)]
        return losses.stack(), [w.stack() for w in weights]

    cache[per_step] = loop
    return loop


def _run_loop(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    lr: float,
    per_step: bool,
) -> KerasTrajectory:
    dtype = _start(model, weights, lr)
    with floatx(dtype):
        losses, stacked = _compiled_loop(model, dtype, per_step)(
            X[order].astype(dtype), y[order].astype(dtype)[..., None]
        )
    return stacked_trajectory(losses, stacked, dtype)


def stacked_trajectory(losses: tensorflow.Tensor, stacked: list[tensorflow.Tensor], dtype: str) -> KerasTrajectory:
    """A compiled loop's output (losses, and per variable its values stacked over the records)
    as one list of weights per record."""
    per_variable = [np.asarray(w) for w in stacked]
    return KerasTrajectory(
        weights=[[w[k] for w in per_variable] for k in range(len(losses))], losses=np.asarray(losses, dtype=dtype)
    )


def train_fast(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float
) -> KerasTrajectory:
    """The same training as ``train_plain``, all epochs in one call of a compiled loop.

    Bit-identical to ``train_plain`` (tests/test_reference.py holds them together)
    and about 100 times faster: Python is not re-entered once per epoch.
    """
    return _run_loop(model, weights, X, y, order, lr, per_step=False)


def train_steps(
    model: keras.Model, weights: list[np.ndarray], X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float
) -> KerasTrajectory:
    """``train_fast``, recorded after every update: ``weights[k]`` and ``losses[k]`` (that row's
    loss, before its update) for the k-th row of ``order.reshape(-1)``."""
    return _run_loop(model, weights, X, y, order, lr, per_step=True)


def _compiled_gradients(model: keras.Model, dtype: str) -> Callable[..., list[tensorflow.Tensor]]:
    """One graph that sets the weights to each given state and tapes the loss's gradient there."""
    cache: dict[str, Callable[..., list[tensorflow.Tensor]]] = model.__dict__.setdefault("_reference_grads", {})
    if dtype in cache:
        return cache[dtype]
    variables = model.trainable_variables
    specs = [tensorflow.TensorSpec(shape=(None, *v.shape), dtype=dtype) for v in variables]
    rows = tensorflow.TensorSpec(shape=(None, None), dtype=dtype)

    @tensorflow.function(input_signature=[specs, rows, rows], reduce_retracing=True)  # type: ignore[untyped-decorator]  # tensorflow is untyped
    def loop(states: list[tensorflow.Tensor], X: tensorflow.Tensor, y: tensorflow.Tensor) -> list[tensorflow.Tensor]:
        n = tensorflow.shape(X)[0]
        grads = [tensorflow.TensorArray(dtype, size=n) for _ in variables]
        for k in tensorflow.range(n):
            for v, state in zip(variables, states, strict=True):
                v.assign(state[k])
            x_k, y_k = X[k : k + 1], y[k : k + 1]
            with tensorflow.GradientTape() as tape:
                y_pred = model(x_k, training=True)
                loss = model.compute_loss(x=x_k, y=y_k, y_pred=y_pred, training=True)
            grads = [g.write(k, d) for g, d in zip(grads, tape.gradient(loss, variables), strict=True)]
        return [g.stack() for g in grads]

    cache[dtype] = loop
    return loop


def gradients_at(model: keras.Model, states: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """dL/dw at many (weights, row) points in one compiled call, by ``tf.GradientTape``.

    ``states[i]`` stacks the i-th weight (``get_weights`` order) over the points,
    shape (points, *weight shape); ``X[k]``, ``y[k]`` is the row at point k. Returns
    the gradients stacked the same way. The model's weights are left changed.
    """
    dtype = model.weights[0].dtype
    with floatx(dtype):
        stacked = _compiled_gradients(model, dtype)(
            [np.asarray(s, dtype=dtype) for s in states],
            np.asarray(X, dtype=dtype).reshape(len(X), -1),
            np.asarray(y, dtype=dtype).reshape(len(y), 1),
        )
    return [np.asarray(g) for g in stacked]
