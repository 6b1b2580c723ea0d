"""Every Keras computation the harness asks for, as a job: plain arguments in, named arrays out.

Plain values (strings, numbers, lists, dicts) and numpy arrays in; a dict of
numpy arrays out, so that a job runs the same here or in a child process
(reference/runner.py). Weights go in and come out in ``get_weights`` order:
``w0``, ``w1``, ... (each stacked over the records where a job records many),
gradients as ``g0``, ``g1``, ... Compiled models are kept per process and
reused across jobs: building and tracing one is most of a small job's cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# isort: off
from reference import keras_model, minibatch, numerics
from reference.protocol import numbered
import keras  # after keras_model, which configures TensorFlow and then imports it quietly
import tensorflow

# isort: on

__all__ = ["JOBS", "run"]

Arrays = dict[str, np.ndarray]


@functools.cache
def _model(sizes: tuple[int, ...], activations: tuple[str, ...], loss: str, dtype: str, device: str) -> keras.Model:
    """Plain SGD; each run sets its own weights and learning rate."""
    return keras_model.build_model(sizes, activations, loss, dtype, lr=0.001)


@functools.cache
def _network(
    sizes: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str,
    dtype: str,
    optimizer: str,
    arguments: tuple[tuple[str, Any], ...],
    device: str,
) -> keras.Model:
    """Each run resets the optimizer's state to its freshly built values."""
    return minibatch.build_network(sizes, activations, loss, dtype, optimizer, dict(arguments))


def _stacked(result: keras_model.KerasTrajectory) -> Arrays:
    """Losses, and each weight stacked over the records."""
    per_weight = [np.stack([ws[i] for ws in result.weights]) for i in range(len(result.weights[0]))]
    return {"losses": np.asarray(result.losses), **numbered("w", per_weight)}


def _states_before(start: Sequence[np.ndarray], after: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Per weight, its value before every step, stacked over the steps."""
    return [np.stack([start[i], *(ws[i] for ws in after[:-1])]) for i in range(len(start))]


def initial_weights(sizes: list[int], activations: list[str], dtype: str, seed: int) -> Arrays:
    """Keras's default initializers (Glorot-uniform kernels, zero biases), seeded."""
    return numbered("w", keras_model.initial_weights(sizes, activations, dtype, seed))


def trajectory(
    sizes: list[int],
    activations: list[str],
    loss: str,
    dtype: str,
    lr: float,
    weights: list[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    path: str,
) -> Arrays:
    """SGD at batch size 1, per epoch: ``fast`` (one compiled loop, on a model kept for reuse)
    or ``plain`` (one ``fit`` per epoch, on a model of its own); bit-identical."""
    if path == "fast":
        model = _model(tuple(sizes), tuple(activations), loss, dtype, numerics.device())
        return _stacked(keras_model.train_fast(model, weights, X, y, order, lr))
    model = keras_model.build_model(sizes, activations, loss, dtype, lr)
    return _stacked(keras_model.train_plain(model, weights, X, y, order, lr))


def steps_and_gradients(
    sizes: list[int],
    activations: list[str],
    loss: str,
    dtype: str,
    lr: float,
    weights: list[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
) -> Arrays:
    """SGD at batch size 1, recorded after every step (``losses``: each row's loss before its
    update), with the taped gradient at the state before every step (``g0``, ...)."""
    model = _model(tuple(sizes), tuple(activations), loss, dtype, numerics.device())
    result = keras_model.train_steps(model, weights, X, y, order, lr)
    rows = order.reshape(-1)
    taped = keras_model.gradients_at(model, _states_before(weights, result.weights), X[rows], y[rows])
    return _stacked(result) | numbered("g", taped)


def gradients(
    sizes: list[int], activations: list[str], loss: str, states: list[np.ndarray], X: np.ndarray, y: np.ndarray
) -> Arrays:
    """dL/dw in float64 at many (weights, row) points; ``states[i]`` stacks the i-th weight over them."""
    model = _model(tuple(sizes), tuple(activations), loss, "float64", numerics.device())
    return numbered("g", keras_model.gradients_at(model, states, X, y))


def _network_model(
    sizes: list[int], activations: list[str], loss: str, dtype: str, optimizer: str, arguments: dict[str, Any]
) -> keras.Model:
    items = tuple(sorted(arguments.items()))
    return _network(tuple(sizes), tuple(activations), loss, dtype, optimizer, items, numerics.device())


def network_trajectory(
    sizes: list[int],
    activations: list[str],
    loss: str,
    dtype: str,
    optimizer: str,
    arguments: dict[str, Any],
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    path: str,
) -> Arrays:
    """Mini-batches and any Keras optimizer, per epoch: ``fast`` or ``plain``; bit-identical."""
    if path == "fast":
        model = _network_model(sizes, activations, loss, dtype, optimizer, arguments)
        return _stacked(minibatch.train_batches_fast(model, weights, X, Y, order, batch_size))
    model = minibatch.build_network(sizes, activations, loss, dtype, optimizer, arguments)
    return _stacked(minibatch.train_batches_plain(model, weights, X, Y, order, batch_size))


def network_steps_and_gradients(
    sizes: list[int],
    activations: list[str],
    loss: str,
    dtype: str,
    optimizer: str,
    arguments: dict[str, Any],
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    batches: list[np.ndarray],
) -> Arrays:
    """Recorded after every batch, with the batch loss's taped gradient at the state before it;
    ``batches``: every update's rows, epoch by epoch (the order cut into batches)."""
    model = _network_model(sizes, activations, loss, dtype, optimizer, arguments)
    result = minibatch.train_batch_steps(model, weights, X, Y, order, batch_size)
    states = _states_before(weights, result.weights)
    taped = minibatch.batch_gradients_at(model, states, [X[rows] for rows in batches], [Y[rows] for rows in batches])
    return _stacked(result) | numbered("g", taped)


JOBS: dict[str, Callable[..., Arrays]] = {
    "initial_weights": initial_weights,
    "trajectory": trajectory,
    "steps_and_gradients": steps_and_gradients,
    "gradients": gradients,
    "network_trajectory": network_trajectory,
    "network_steps_and_gradients": network_steps_and_gradients,
}


def run(job: str, arguments: dict[str, Any]) -> tuple[Arrays, dict[str, str]]:
    """One job on the configured device, and the configuration read back when it ended."""
    with numerics.placed(tensorflow):
        arrays = JOBS[job](**arguments)
        return arrays, numerics.read_back(tensorflow)
