"""Every Keras computation the harness asks for, as a job: plain arguments in, named arrays out.

Plain values (strings, numbers, lists, dicts) and numpy arrays in; a dict of
numpy arrays out, so that a job runs the same here or in a child process
(reference/runner.py). Weights go in and come out in ``get_weights`` order:
``w0``, ``w1``, ... (each stacked over the records where a job records many),
gradients as ``g0``, ``g1``, ..., an optimizer's replayed updates as ``after0``,
``after1``, ... Compiled models are kept per process and
reused across jobs: building and tracing one is most of a small job's cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# isort: off
from reference import keras_model, numerics, training
from reference.protocol import numbered
import keras  # after keras_model, which configures TensorFlow and then imports it quietly
import tensorflow

# isort: on

__all__ = ["JOBS", "run"]

Arrays = dict[str, np.ndarray]


@functools.cache
def _cached_model(
    sizes: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str,
    dtype: str,
    optimizer: str,
    arguments: tuple[tuple[str, Any], ...],
    device: str,
) -> keras.Model:
    """One compiled model per network, optimizer and device; each run resets the optimizer's
    state and sets its own learning rate, so the rate is not part of the key."""
    return keras_model.build_model(sizes, activations, loss, dtype, optimizer, dict(arguments))


def _model(
    sizes: list[int], activations: list[str], loss: str, dtype: str, optimizer: str, arguments: dict[str, Any]
) -> keras.Model:
    rest = tuple(sorted((k, v) for k, v in arguments.items() if k != "learning_rate"))
    return _cached_model(tuple(sizes), tuple(activations), loss, dtype, optimizer, rest, numerics.device())


def _stacked(result: training.KerasTrajectory) -> Arrays:
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
    optimizer: str,
    arguments: dict[str, Any],
    weights: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    path: str,
) -> Arrays:
    """Per epoch: ``fast`` (one compiled loop, on a model kept for reuse) or ``plain`` (one
    ``fit`` per epoch, on a model of its own, as a learner runs it); bit-identical."""
    rate = arguments["learning_rate"]
    if path == "fast":
        model = _model(sizes, activations, loss, dtype, optimizer, arguments)
        return _stacked(training.train_fast(model, weights, X, Y, order, batch_size, rate))
    model = keras_model.build_model(sizes, activations, loss, dtype, optimizer, arguments)
    return _stacked(training.train_plain(model, weights, X, Y, order, batch_size, rate))


def steps_and_gradients(
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
    """Recorded after every batch (``losses``: each batch's loss before its update), with the batch
    loss's taped gradient at the state before it (``g0``, ...); ``batches``: every update's rows,
    epoch by epoch (the order cut into batches)."""
    model = _model(sizes, activations, loss, dtype, optimizer, arguments)
    result = training.train_steps(model, weights, X, Y, order, batch_size, arguments["learning_rate"])
    states = _states_before(weights, result.weights)
    taped = training.gradients_at(model, states, [X[rows] for rows in batches], [Y[rows] for rows in batches])
    return _stacked(result) | numbered("g", taped)


def steps_with_state(
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
) -> Arrays:
    """Recorded after every batch: the weights (``w0``, ...), each batch's loss, and the optimizer's
    state, per slot and weight (``slot_m_0``, ``slot_v_0``, ...): the full state every step starts from."""
    model = _model(sizes, activations, loss, dtype, optimizer, arguments)
    result = training.train_steps(model, weights, X, Y, order, batch_size, arguments["learning_rate"], slots=True)
    state: Arrays = {}
    for name, per_weight in result.slots.items():
        state |= numbered(f"slot_{name}_", per_weight)
    return _stacked(result) | state


def gradients(
    sizes: list[int], activations: list[str], loss: str, states: list[np.ndarray], X: np.ndarray, Y: np.ndarray
) -> Arrays:
    """dL/dw in float64 at many (weights, row) points; ``states[i]`` stacks the i-th weight over
    them, and each point's row is a batch of one."""
    model = _model(sizes, activations, loss, "float64", "sgd", {})
    rows = [X[k : k + 1] for k in range(len(X))], [Y[k : k + 1].reshape(1, -1) for k in range(len(Y))]
    return numbered("g", training.gradients_at(model, states, *rows))


@functools.cache
def _cached_optimizer(
    dtype: str,
    optimizer: str,
    arguments: tuple[tuple[str, Any], ...],
    shapes: tuple[tuple[int, ...], ...],
    device: str,
) -> tuple[keras.optimizers.Optimizer, list[keras.Variable], list[np.ndarray]]:
    """One optimizer per kind, arguments, variables' shapes and device, built on variables of
    ``dtype`` as ``keras_model.build_model`` builds a model's (its learning rate, made in floatx,
    in ``dtype`` too), and its freshly built state; each replay starts from that state and sets
    its own learning rate, so the rate is not part of the key."""
    with keras_model.floatx(dtype):
        variables = [
            keras.Variable(np.zeros(shape, dtype=dtype), dtype=dtype, name=f"variable_{i}")
            for i, shape in enumerate(shapes)
        ]
        opt = getattr(keras.optimizers, keras_model.OPTIMIZER_CLASSES[optimizer])(**dict(arguments))
        opt.build(variables)
    return opt, variables, [np.array(v.numpy()) for v in opt.variables]


def optimizer_replay(
    dtype: str,
    optimizer: str,
    arguments: dict[str, Any],
    shapes: list[list[int]],
    before: list[np.ndarray],
    grads: list[np.ndarray],
) -> Arrays:
    """Keras's own optimizer (``keras.optimizers.<optimizer>(**arguments)``, from its fresh state) on
    a learner's sequence of (parameters, gradient) pairs: ``before[i]`` and ``grads[i]`` stack the
    i-th variable (of shape ``shapes[i]``) over the steps. At step t the variables are set to
    ``before[i][t]`` and the optimizer applies ``grads[i][t]``; ``after0``, ``after1``, ... are the
    values it leaves, stacked the same way. Its own state (moments, accumulators, iterations)
    carries over from step to step: it depends only on the gradients."""
    rest = tuple(sorted((k, v) for k, v in arguments.items() if k != "learning_rate"))
    key = tuple(tuple(int(n) for n in shape) for shape in shapes)
    opt, variables, fresh = _cached_optimizer(dtype, optimizer, rest, key, numerics.device())
    for variable, value in zip(opt.variables, fresh, strict=True):
        variable.assign(value)
    if "learning_rate" in arguments:
        opt.learning_rate.assign(arguments["learning_rate"])
    return numbered("after", training.replay_optimizer(opt, variables, before, grads))


JOBS: dict[str, Callable[..., Arrays]] = {
    "initial_weights": initial_weights,
    "trajectory": trajectory,
    "steps_and_gradients": steps_and_gradients,
    "gradients": gradients,
    "steps_with_state": steps_with_state,
    "optimizer_replay": optimizer_replay,
}


def run(job: str, arguments: dict[str, Any]) -> tuple[Arrays, dict[str, str]]:
    """One job on the configured device, and the configuration read back when it ended."""
    with numerics.placed(tensorflow):
        arrays = JOBS[job](**arguments)
        return arrays, numerics.read_back(tensorflow)
