"""The document's network as a Keras model, trained by Keras's own ``model.fit``.

Knows nothing of manual/: it takes layer sizes, Keras activation and loss names,
initial weights as a list in ``get_weights`` order, and the exact row sequence.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# oneDNN's float32 matmul fuses w_11 x_1 + w_21 x_2 into one FMA (one rounding
# where the document's formula has two). Measured here: with it, float32
# regression drifts 5-100 ULPs from plain numpy within 20 epochs; without it,
# zero. Must be set before tensorflow is first imported; an explicit setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
    import keras  # must follow the environment set above
    import tensorflow

    tensorflow.config.list_physical_devices()  # device discovery logs its CUDA complaints now, quietly
import numpy as np  # noqa: E402

__all__ = ["KerasTrajectory", "build_model", "floatx", "initial_weights", "train"]


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


class _RecordWeights(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.weights.append([np.array(w) for w in self.model.get_weights()])


def train(
    model: keras.Model,
    weights: list[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    lr: float,
) -> KerasTrajectory:
    """Train from ``weights`` on rows ``order[e]`` in epoch e, batch size 1, no shuffling.

    One ``fit`` over the whole row sequence with ``steps_per_epoch`` rows per
    epoch: Keras keeps reading the same iterator across epochs, so every epoch
    sees exactly its own rows, and History holds each epoch's mean loss.
    """
    dtype = model.weights[0].dtype
    model.set_weights([np.asarray(w, dtype=dtype) for w in weights])
    model.optimizer.learning_rate.assign(lr)
    epochs, rows_per_epoch = order.shape
    rows = order.reshape(-1)
    recorder = _RecordWeights()
    with floatx(dtype):
        history = model.fit(
            X[rows].astype(dtype),
            y[rows].astype(dtype),
            batch_size=1,
            epochs=epochs,
            steps_per_epoch=rows_per_epoch,
            shuffle=False,
            verbose=0,
            callbacks=[recorder],
        )
    return KerasTrajectory(weights=recorder.weights, losses=np.array(history.history["loss"], dtype=dtype))
