"""A stack of Dense layers as a Keras model, compiled with one of Keras's optimizers.

Knows nothing of manual/: it takes layer sizes, Keras activation, loss and
optimizer names, and initial weights as a list in ``get_weights`` order. The
document's 2-2-1 networks are such a stack with plain SGD; reference/training.py
trains every model the same way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

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

__all__ = ["OPTIMIZER_CLASSES", "build_model", "floatx", "initial_weights", "reset_optimizer"]

OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


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


def build_model(
    sizes: Sequence[int],
    activations: Sequence[str],
    loss: str,
    dtype: str,
    optimizer: str = "sgd",
    arguments: dict[str, Any] | None = None,
) -> keras.Model:
    """Dense layers of ``sizes[1:]`` units, compiled with ``keras.optimizers.<optimizer>(**arguments)``
    (plain SGD at Keras's default rate when neither is given). The optimizer's fresh state is kept,
    so that ``reset_optimizer`` can start every run from it and one compiled model serves many runs."""
    with floatx(dtype):
        model = _sequential(sizes, activations, dtype)
        opt = getattr(keras.optimizers, OPTIMIZER_CLASSES[optimizer])(**(arguments or {}))
        model.compile(optimizer=opt, loss=loss)
        opt.build(model.trainable_variables)
    model.__dict__["_reference_fresh_optimizer"] = [np.array(v.numpy()) for v in opt.variables]
    return model


def reset_optimizer(model: keras.Model, learning_rate: float | None = None) -> None:
    """The optimizer's state (iterations, moments, accumulators) back to its freshly built values;
    ``learning_rate``, where given, replaces the one it was built with."""
    for variable, fresh in zip(model.optimizer.variables, model.__dict__["_reference_fresh_optimizer"], strict=True):
        variable.assign(fresh)
    if learning_rate is not None:
        model.optimizer.learning_rate.assign(learning_rate)


def initial_weights(sizes: Sequence[int], activations: Sequence[str], dtype: str, seed: int) -> list[np.ndarray]:
    """Keras's default initializers (Glorot-uniform kernels, zero biases), seeded."""
    keras.utils.set_random_seed(seed)
    with floatx(dtype):
        model = _sequential(sizes, activations, dtype)
    return [np.array(w) for w in model.get_weights()]
