"""A learner's step for a network of their own, with one slip: 3 inputs, 4 tanh
neurons, 2 linear outputs, Keras's mean_squared_error averaged over the batch and the outputs.

Audit it: python -m comparisons audit examples/network_learner.py --layers 3,4,2 --batch-size 3 --rows 10
"""

import numpy as np


def step(params, x, y, lr):
    X = np.atleast_2d(x)  # one row at batch size 1, else the batch (B, 3)
    Y = np.asarray(y).reshape(len(X), -1)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = np.tanh(X @ W1 + b1)  # O_1, the hidden layer's outputs
    Y_hat = H @ W2 + b2
    B, n = Y.shape
    loss = np.mean(np.mean((Y - Y_hat) ** 2, axis=1))
    d2 = 2 * (Y_hat - Y) / (B * n)  # dL/dz_2
    d1 = (d2 @ W2.T) * (1 - H)  # tanh's slope written 1 - O
    new = {"W2": W2 - lr * H.T @ d2, "b2": b2 - lr * d2.sum(axis=0)}
    return new | {"W1": W1 - lr * X.T @ d1, "b1": b1 - lr * d1.sum(axis=0)}, loss
