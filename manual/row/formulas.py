"""The document's per-parameter update rules, one formula per line.

Names follow the document: w^k_ij is written ``w{k}_ij``, O_kj is the output of
neuron j of layer k, y_hat the prediction. Every gradient is taken from one
forward pass, and every parameter is then updated as w_n = w_o - eta dL/dw_o
(the document's update rule), so no formula ever sees an already-updated value.
"""

from __future__ import annotations

import numpy as np

from manual.activations import sigmoid
from manual.network import Architecture, Params, copy_params, parameter_names
from manual.row.losses import binary_crossentropy, squared_error

__all__ = ["classification_gradients", "classification_step", "regression_gradients", "regression_step"]

# Shape only (activations and loss do not change the names).
_NAMES = {
    name: (key, index)
    for key, index, name in parameter_names(Architecture((2, 2, 1), ("linear", "linear"), "mean_squared_error"))
}


def _unpack(params: Params) -> tuple[np.floating, ...]:
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    return W1[0, 0], W1[0, 1], W1[1, 0], W1[1, 1], b1[0], b1[1], W2[0, 0], W2[1, 0], b2[0]


def _descend(params: Params, lr: np.floating, gradients: dict[str, np.floating]) -> Params:
    """w_n = w_o - eta dL/dw_o for every parameter, all from the same forward pass."""
    if set(gradients) != set(_NAMES):
        raise AssertionError(f"need one formula per parameter, got {sorted(gradients)}")
    new = copy_params(params)
    for name, (key, index) in _NAMES.items():
        new[key][index] = params[key][index] - lr * gradients[name]
    return new


def regression_gradients(params: Params, x: np.ndarray, y: np.floating) -> tuple[dict[str, np.floating], np.floating]:
    """Linear neurons, L = (y - y_hat)^2: the document's regression table, all nine rows, and L."""
    w1_11, w1_12, w1_21, w1_22, b_11, b_12, w2_11, w2_21, b_21 = _unpack(params)
    x_i1, x_i2 = x[0], x[1]

    O_11 = w1_11 * x_i1 + w1_21 * x_i2 + b_11
    O_12 = w1_12 * x_i1 + w1_22 * x_i2 + b_12
    y_hat = w2_11 * O_11 + w2_21 * O_12 + b_21
    L = squared_error(y, y_hat)

    dL = {
        "w^2_11": -2 * (y - y_hat) * O_11,  # dL/dw^2_11 = -2(y - y_hat) O_11
        "w^2_21": -2 * (y - y_hat) * O_12,  # dL/dw^2_21 = -2(y - y_hat) O_12
        "b_21": -2 * (y - y_hat),  # dL/db_21 = -2(y - y_hat)
        "w^1_11": -2 * (y - y_hat) * w2_11 * x_i1,  # dL/dw^1_11 = -2(y - y_hat) w^2_11 x_i1
        "w^1_21": -2 * (y - y_hat) * w2_11 * x_i2,  # dL/dw^1_21 = -2(y - y_hat) w^2_11 x_i2
        "b_11": -2 * (y - y_hat) * w2_11,  # dL/db_11 = -2(y - y_hat) w^2_11
        "w^1_12": -2 * (y - y_hat) * w2_21 * x_i1,  # dL/dw^1_12 = -2(y - y_hat) w^2_21 x_i1
        "w^1_22": -2 * (y - y_hat) * w2_21 * x_i2,  # dL/dw^1_22 = -2(y - y_hat) w^2_21 x_i2
        "b_12": -2 * (y - y_hat) * w2_21,  # dL/db_12 = -2(y - y_hat) w^2_21
    }
    return dL, L


def classification_gradients(
    params: Params, x: np.ndarray, y: np.floating
) -> tuple[dict[str, np.floating], np.floating]:
    """Sigmoid neurons, binary cross-entropy: the document's classification table, corrected, and L.

    The document labels three rows with the wrong parameter: its 4th and 5th rows
    say w^2_11 and w^2_21 but give the gradients of w^1_11 and w^1_21, and its 9th
    row says w^2_12 (a parameter this network does not have) but gives the gradient
    of b_12. The expressions are right; the labels below are the correct ones.
    """
    w1_11, w1_12, w1_21, w1_22, b_11, b_12, w2_11, w2_21, b_21 = _unpack(params)
    x_i1, x_i2 = x[0], x[1]

    O_11 = sigmoid(w1_11 * x_i1 + w1_21 * x_i2 + b_11)
    O_12 = sigmoid(w1_12 * x_i1 + w1_22 * x_i2 + b_12)
    y_hat = sigmoid(w2_11 * O_11 + w2_21 * O_12 + b_21)
    L = binary_crossentropy(y, y_hat)

    dL = {
        "w^2_11": -(y - y_hat) * O_11,  # dL/dw^2_11 = -(y - y_hat) O_11
        "w^2_21": -(y - y_hat) * O_12,  # dL/dw^2_21 = -(y - y_hat) O_12
        "b_21": -(y - y_hat),  # dL/db_21 = -(y - y_hat)
        "w^1_11": -(y - y_hat) * w2_11 * O_11 * (1 - O_11) * x_i1,  # document row 4 (labelled w^2_11)
        "w^1_21": -(y - y_hat) * w2_11 * O_11 * (1 - O_11) * x_i2,  # document row 5 (labelled w^2_21)
        "b_11": -(y - y_hat) * w2_11 * O_11 * (1 - O_11),  # dL/db_11
        "w^1_12": -(y - y_hat) * w2_21 * O_12 * (1 - O_12) * x_i1,  # dL/dw^1_12
        "w^1_22": -(y - y_hat) * w2_21 * O_12 * (1 - O_12) * x_i2,  # dL/dw^1_22
        "b_12": -(y - y_hat) * w2_21 * O_12 * (1 - O_12),  # document row 9 (labelled w^2_12)
    }
    return dL, L


def regression_step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
    dL, L = regression_gradients(params, x, y)
    return _descend(params, lr, dL), L


def classification_step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
    dL, L = classification_gradients(params, x, y)
    return _descend(params, lr, dL), L
