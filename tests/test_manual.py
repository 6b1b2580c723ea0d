"""The manual side on its own: values checked by hand, and the two implementations held together."""

from __future__ import annotations

import math

import numpy as np
import pytest

from comparisons import PROBLEMS
from comparisons.spec import random_params, seed_params
from manual import Params, classification_step, copy_params, layerwise_step, regression_step, train

REGRESSION = PROBLEMS["regression"].arch
CLASSIFICATION = PROBLEMS["classification"].arch


def test_regression_first_step_by_hand() -> None:
    """Row (8, 8) -> 4 from the notebooks' start (weights 0.1, biases 0), eta = 0.001.

    O_11 = O_12 = 0.1*8 + 0.1*8 = 1.6; y_hat = 0.1*1.6 + 0.1*1.6 = 0.32;
    L = (4 - 0.32)^2 = 13.5424; -2(y - y_hat) = -7.36.
    """
    params = seed_params(REGRESSION, "float64")
    new, loss = regression_step(params, np.array([8.0, 8.0]), np.float64(4.0), np.float64(0.001))
    assert loss == pytest.approx(13.5424, rel=1e-15)
    np.testing.assert_allclose(new["W2"], [[0.1 + 0.001 * 7.36 * 1.6]] * 2, rtol=1e-15)  # w^2_j1 = 0.111776
    np.testing.assert_allclose(new["b2"], [0.00736], rtol=1e-15)  # b_21
    np.testing.assert_allclose(new["W1"], [[0.1 + 0.001 * 7.36 * 0.1 * 8] * 2] * 2, rtol=1e-15)  # 0.105888
    np.testing.assert_allclose(new["b1"], [0.001 * 7.36 * 0.1] * 2, rtol=1e-15)  # b_1j = 0.000736


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_classification_first_step_by_hand() -> None:
    """Asymmetric weights, so a swapped index or a crossed neuron would show; math-module floats as the hand."""
    W1 = [[0.3, -0.2], [0.1, 0.4]]  # W1[i][j]: input i -> hidden j, the document's w^1_(i+1)(j+1)
    b1 = [0.05, -0.05]
    W2 = [0.7, -0.6]  # w^2_11, w^2_21
    b2 = 0.02
    x, y, eta = [7.0, 9.0], 1.0, 0.1
    O_1 = [_sigmoid(x[0] * W1[0][j] + x[1] * W1[1][j] + b1[j]) for j in range(2)]
    y_hat = _sigmoid(O_1[0] * W2[0] + O_1[1] * W2[1] + b2)
    e = -(y - y_hat)  # dL/dz at the output: sigmoid's derivative cancels the cross-entropy's
    params: Params = {
        "W1": np.array(W1),
        "b1": np.array(b1),
        "W2": np.array([[W2[0]], [W2[1]]]),
        "b2": np.array([b2]),
    }
    new, loss = classification_step(params, np.array(x), np.float64(y), np.float64(eta))
    assert loss == pytest.approx(-math.log(y_hat), rel=1e-14)
    np.testing.assert_allclose(new["b2"], [b2 - eta * e], rtol=1e-14)
    np.testing.assert_allclose(new["W2"][:, 0], [W2[j] - eta * e * O_1[j] for j in range(2)], rtol=1e-14)
    delta = [e * W2[j] * O_1[j] * (1 - O_1[j]) for j in range(2)]
    np.testing.assert_allclose(new["b1"], [b1[j] - eta * delta[j] for j in range(2)], rtol=1e-14)
    expected_W1 = [[W1[i][j] - eta * x[i] * delta[j] for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(new["W1"], expected_W1, rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_regression_formulas_and_layerwise_are_bit_identical(dtype: str) -> None:
    params = random_params(REGRESSION, dtype, seed=3)
    X = np.array(PROBLEMS["regression"].rows, dtype=dtype)[:, :2]
    y = np.array(PROBLEMS["regression"].rows, dtype=dtype)[:, 2]
    order = np.tile(np.arange(4), (25, 1))
    by_formula = train(regression_step, params, X, y, order, 0.001)
    by_layer = train(layerwise_step(REGRESSION), params, X, y, order, 0.001)
    np.testing.assert_array_equal(by_formula.losses, by_layer.losses)
    for epoch, (a, d) in enumerate(zip(by_formula.params, by_layer.params, strict=True), start=1):
        for key in a:
            np.testing.assert_array_equal(a[key], d[key], err_msg=f"{dtype} epoch {epoch} {key}")


def test_step_leaves_its_input_alone() -> None:
    params = random_params(CLASSIFICATION, "float64", seed=1)
    before = copy_params(params)
    for step in (classification_step, layerwise_step(CLASSIFICATION)):
        step(params, np.array([8.0, 8.0]), np.float64(1.0), np.float64(0.5))
        for key in params:
            np.testing.assert_array_equal(params[key], before[key])


def test_train_is_not_fooled_by_a_step_that_mutates_in_place() -> None:
    def mutating(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
        new, loss = regression_step(params, x, y, lr)
        for key in params:
            params[key][...] = new[key]  # writes into what it was given and hands it back
        return params, loss

    params = seed_params(REGRESSION, "float64")
    X = np.array([[8.0, 8.0], [7.0, 9.0]])
    y = np.array([4.0, 5.0])
    order = np.tile(np.arange(2), (3, 1))
    clean, dirty = train(regression_step, params, X, y, order, 0.01), train(mutating, params, X, y, order, 0.01)
    np.testing.assert_array_equal(dirty.losses, clean.losses)
    for a, d in zip(dirty.params, clean.params, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], d[key])
    assert not np.array_equal(dirty.params[0]["W1"], dirty.params[-1]["W1"]), "history entries must be snapshots"


def test_epoch_loss_is_the_running_total_over_the_count_in_the_working_dtype() -> None:
    """As Keras's Mean metric: total += loss row by row, in float32 here, then / count."""
    losses = iter(np.array([0.1, 0.2, 0.7], dtype="float32"))

    def fixed(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
        return params, next(losses)

    X = np.zeros((3, 2), dtype="float32")
    result = train(fixed, seed_params(REGRESSION, "float32"), X, X[:, 0], np.arange(3)[None, :], 0.1)
    total = np.float32(0) + np.float32(0.1) + np.float32(0.2) + np.float32(0.7)
    assert result.losses.dtype == np.float32
    assert result.losses[0] == total / np.float32(3)
