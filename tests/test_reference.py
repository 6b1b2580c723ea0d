"""reference/ on its own: the fast path is the plain one, bit for bit; Keras initial weights are seeded."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest

import reference
from comparisons import PROBLEMS, Spec, row_order, to_arrays
from comparisons.spec import DEFAULT_LEARNING_RATES
from manual.batch.optimizers import OPTIMIZERS, OptimizerConfig
from manual.row.training import epoch_loss


@functools.cache
def _model(problem: str, dtype: str, path: str) -> keras.Model:
    """One model per problem, dtype and path, shared by the orders: each run sets its own weights
    and rate (test_fast_path_reuses_its_model_across_runs holds that), and building and tracing
    a model is most of a run's cost."""
    arch = PROBLEMS[problem].arch
    return reference.build_model(arch.sizes, arch.activations, arch.loss, dtype)


@pytest.mark.breadth
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", ["sequential", "shuffle", "sample"])
@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_fast_path_is_bit_identical_to_one_fit_per_epoch(problem: str, order: str, dtype: str) -> None:
    """The fast path (Keras's train_step in one compiled loop) against the notebook's loop,
    one ``model.fit(shuffle=False)`` per epoch: every weight and loss, every epoch, bit for bit."""
    spec = Spec.document(problem=problem, dtype=dtype, order=order, epochs=4, seed=5)
    arch = PROBLEMS[problem].arch
    X, y = to_arrays(PROBLEMS[problem].data(), PROBLEMS[problem], dtype)
    rows = row_order(spec, len(X))
    start = reference.initial_weights(arch.sizes, arch.activations, dtype, seed=1)
    fast = reference.train_fast(
        _model(problem, dtype, "fast"), start, X, y[:, None], rows, learning_rate=spec.learning_rate
    )
    plain = reference.train_plain(
        _model(problem, dtype, "plain"), start, X, y[:, None], rows, learning_rate=spec.learning_rate
    )
    np.testing.assert_array_equal(fast.losses, plain.losses, err_msg=f"{spec.label} losses")
    assert fast.losses.dtype == plain.losses.dtype == np.dtype(dtype)
    for epoch, (w_fast, w_plain) in enumerate(zip(fast.weights, plain.weights, strict=True), start=1):
        for index, (a, d) in enumerate(zip(w_fast, w_plain, strict=True)):
            np.testing.assert_array_equal(a, d, err_msg=f"{spec.label} epoch {epoch} weight {index}")


def test_fast_path_reuses_its_model_across_runs() -> None:
    """A second run on the same model starts from the weights it is given, not where the first ended."""
    arch = PROBLEMS["regression"].arch
    X, y = to_arrays(PROBLEMS["regression"].data(), PROBLEMS["regression"], "float64")
    rows = np.tile(np.arange(4), (3, 1))
    start = reference.initial_weights(arch.sizes, arch.activations, "float64", seed=2)
    model = reference.build_model(arch.sizes, arch.activations, arch.loss, "float64")
    first = reference.train_fast(model, start, X, y[:, None], rows, learning_rate=0.001)
    again = reference.train_fast(model, start, X, y[:, None], rows, learning_rate=0.001)
    np.testing.assert_array_equal(first.losses, again.losses)
    other_rate = reference.train_fast(model, start, X, y[:, None], rows, learning_rate=0.002)
    assert not np.array_equal(first.losses, other_rate.losses)


def test_keras_initial_weights_are_seeded() -> None:
    arch = PROBLEMS["classification"].arch
    first = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=4)
    again = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=4)
    other = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert first[0].dtype == np.float32
    assert np.all(first[1] == 0)  # Keras's zero biases


@pytest.mark.breadth
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_per_step_recording_agrees_with_per_epoch(problem: str, dtype: str) -> None:
    """Weights after each epoch's last row are the epoch's weights; each row's loss, averaged as
    Keras's Mean metric does, is the epoch loss History would report, bit for bit."""
    spec = Spec.document(problem=problem, dtype=dtype, order="sample", epochs=5, seed=8)
    arch = PROBLEMS[problem].arch
    X, y = to_arrays(PROBLEMS[problem].data(), PROBLEMS[problem], dtype)
    rows = row_order(spec, len(X))
    start = reference.initial_weights(arch.sizes, arch.activations, dtype, seed=3)
    model = reference.build_model(arch.sizes, arch.activations, arch.loss, dtype)
    per_epoch = reference.train_fast(model, start, X, y[:, None], rows, learning_rate=spec.learning_rate)
    per_step = reference.train_steps(model, start, X, y[:, None], rows, learning_rate=spec.learning_rate)
    assert len(per_step.weights) == rows.size
    n = rows.shape[1]
    for epoch in range(spec.epochs):
        row_losses = per_step.losses[epoch * n : (epoch + 1) * n]
        assert epoch_loss(row_losses) == per_epoch.losses[epoch], f"epoch {epoch + 1}"
        for a, d in zip(per_step.weights[(epoch + 1) * n - 1], per_epoch.weights[epoch], strict=True):
            np.testing.assert_array_equal(a, d)


# What manual/batch/optimizers.py leaves out of every formula, as a fresh Keras optimizer has it
_UNUSED_BY_THE_FORMULAS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "amsgrad": False,  # adam
    "centered": False,  # rmsprop
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_optimizer_defaults_are_keras_own(name: str) -> None:
    """Read from a fresh Keras optimizer, never from a copy: the defaults (the learning rate,
    Adagrad's initial accumulator, every epsilon) feed both sides, so only Keras can catch a wrong one."""
    config = keras.optimizers.get(name).get_config()
    ours = OptimizerConfig(name, DEFAULT_LEARNING_RATES[name]).keras_arguments()
    assert np.float32(ours.pop("learning_rate")) == np.float32(config["learning_rate"])  # Keras keeps it in float32
    assert ours == {key: config[key] for key in ours}
    assert {key: config[key] for key in _UNUSED_BY_THE_FORMULAS if key in config} == {
        key: value for key, value in _UNUSED_BY_THE_FORMULAS.items() if key in config
    }
    if name == "rmsprop":
        assert config["momentum"] == 0  # manual/batch/optimizers.py's RMSprop has none
