"""The classification notebook's update rules, as copies of the tutorial's notebook circulate them.

Adapted only to this tool's step contract (Keras layout in, Keras layout out; the
learning rate is the ``lr`` argument where the notebook writes 0.0001). Audit it with

    python -m comparisons audit examples/notebook_classification.py --problem classification
"""

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def linear_forward(A_prev, W, b):
    return sigmoid(np.dot(W.T, A_prev) + b)


def update_parameters(parameters, y, y_hat, A1, X, lr):
    parameters["W2"][0][0] = parameters["W2"][0][0] + (lr * (y - y_hat) * A1[0][0])
    parameters["W2"][1][0] = parameters["W2"][1][0] + (lr * (y - y_hat) * A1[1][0])
    parameters["b2"][0][0] = parameters["W2"][1][0] + (lr * (y - y_hat))

    parameters["W1"][0][0] = parameters["W1"][0][0] + (
        lr * (y - y_hat) * parameters["W2"][0][0] * A1[0][0] * (1 - A1[0][0]) * X[0][0]
    )
    parameters["W1"][0][1] = parameters["W1"][0][1] + (
        lr * (y - y_hat) * parameters["W2"][0][0] * A1[0][0] * (1 - A1[0][0]) * X[1][0]
    )
    parameters["b1"][0][0] = parameters["b1"][0][0] + (
        lr * (y - y_hat) * parameters["W2"][0][0] * A1[0][0] * (1 - A1[0][0])
    )

    parameters["W1"][1][0] = parameters["W1"][1][0] + (
        lr * (y - y_hat) * parameters["W2"][1][0] * A1[1][0] * (1 - A1[1][0]) * X[0][0]
    )
    parameters["W1"][1][1] = parameters["W1"][1][1] + (
        lr * (y - y_hat) * parameters["W2"][1][0] * A1[1][0] * (1 - A1[1][0]) * X[1][0]
    )
    parameters["b1"][1][0] = parameters["b1"][1][0] + (
        lr * (y - y_hat) * parameters["W2"][1][0] * A1[1][0] * (1 - A1[1][0])
    )


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
    loss = -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)
    update_parameters(parameters, y, y_hat, A1, X, lr)
    return {
        "W1": parameters["W1"],
        "b1": parameters["b1"].reshape(2),
        "W2": parameters["W2"],
        "b2": parameters["b2"].reshape(1),
    }, loss
