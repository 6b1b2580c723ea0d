"""A correct step for the classification problem: the document's formulas, parameter by parameter,
updating in place only after every gradient has been taken from the same forward pass."""

import math


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x1, x2 = x
    O11 = sigmoid(W1[0, 0] * x1 + W1[1, 0] * x2 + b1[0])
    O12 = sigmoid(W1[0, 1] * x1 + W1[1, 1] * x2 + b1[1])
    y_hat = sigmoid(W2[0, 0] * O11 + W2[1, 0] * O12 + b2[0])
    loss = -y * math.log(y_hat) - (1 - y) * math.log(1 - y_hat)

    e = -(y - y_hat)
    g = {
        ("W2", 0, 0): e * O11,
        ("W2", 1, 0): e * O12,
        ("b2", 0): e,
        ("W1", 0, 0): e * W2[0, 0] * O11 * (1 - O11) * x1,
        ("W1", 1, 0): e * W2[0, 0] * O11 * (1 - O11) * x2,
        ("b1", 0): e * W2[0, 0] * O11 * (1 - O11),
        ("W1", 0, 1): e * W2[1, 0] * O12 * (1 - O12) * x1,
        ("W1", 1, 1): e * W2[1, 0] * O12 * (1 - O12) * x2,
        ("b1", 1): e * W2[1, 0] * O12 * (1 - O12),
    }
    for (key, *index), grad in g.items():
        params[key][tuple(index)] -= lr * grad
    return params, loss
