"""Carol: the squared error's derivative without its factor 2."""

import numpy as np


def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = x @ W1 + b1
    y_hat = h @ W2[:, 0] + b2[0]
    e = -(y - y_hat)
    new = {"W1": W1 - lr * e * np.outer(x, W2[:, 0]), "b1": b1 - lr * e * W2[:, 0]}
    return new | {"W2": W2 - lr * e * h[:, None], "b2": b2 - lr * e}, (y - y_hat) ** 2
