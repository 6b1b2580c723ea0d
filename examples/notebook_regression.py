"""The regression notebook's update rules, as copies of the tutorial's notebook circulate them.

Adapted only to this tool's step contract (Keras layout in, Keras layout out; the
learning rate is the ``lr`` argument where the notebook writes 0.001). The
notebook's forward pass, Z = W^T A + b, already uses Keras's layout: W1[i][j]
joins input i to hidden neuron j. Audit it with

    python -m comparisons audit examples/notebook_regression.py --problem regression
"""

import numpy as np


def linear_forward(A_prev, W, b):
    return np.dot(W.T, A_prev) + b


def update_parameters(parameters, y, y_hat, A1, X, lr):
    parameters["W2"][0][0] = parameters["W2"][0][0] + (lr * 2 * (y - y_hat) * A1[0][0])
    parameters["W2"][1][0] = parameters["W2"][1][0] + (lr * 2 * (y - y_hat) * A1[1][0])
    parameters["b2"][0][0] = parameters["W2"][1][0] + (lr * 2 * (y - y_hat))

    parameters["W1"][0][0] = parameters["W1"][0][0] + (lr * 2 * (y - y_hat) * parameters["W2"][0][0] * X[0][0])
    parameters["W1"][0][1] = parameters["W1"][0][1] + (lr * 2 * (y - y_hat) * parameters["W2"][0][0] * X[1][0])
    parameters["b1"][0][0] = parameters["b1"][0][0] + (lr * 2 * (y - y_hat) * parameters["W2"][0][0])

    parameters["W1"][1][0] = parameters["W1"][1][0] + (lr * 2 * (y - y_hat) * parameters["W2"][1][0] * X[0][0])
    parameters["W1"][1][1] = parameters["W1"][1][1] + (lr * 2 * (y - y_hat) * parameters["W2"][1][0] * X[1][0])
    parameters["b1"][1][0] = parameters["b1"][1][0] + (lr * 2 * (y - y_hat) * parameters["W2"][1][0])


def step(params, x, y, lr):
    parameters = {
        "W1": params["W1"],
        "b1": params["b1"].reshape(2, 1),
        "W2": params["W2"],
        "b2": params["b2"].reshape(1, 1),
    }
    X = x.reshape(2, 1)
    A1 = linear_forward(X, parameters["W1"], parameters["b1"])
    y_hat = linear_forward(A1, parameters["W2"], parameters["b2"])[0][0]
    loss = (y - y_hat) ** 2
    update_parameters(parameters, y, y_hat, A1, X, lr)
    return {
        "W1": parameters["W1"],
        "b1": parameters["b1"].reshape(2),
        "W2": parameters["W2"],
        "b2": parameters["b2"].reshape(1),
    }, loss
