"""A learner's regression step with three mistakes the known-bug catalogue has no name for.

The learning rate is hard-coded 10x too large, b_21 is rebuilt from w^2_11, and
the hidden biases are never updated. Audit it with

    python -m comparisons audit examples/learner_regression.py --problem regression
"""

import numpy as np


def step(params, x, y, lr):
    lr = 0.01  # "0.001 trains too slowly"
    W1, b1 = params["W1"].copy(), params["b1"].reshape(2, 1).copy()  # biases as columns, as the notebooks keep them
    W2, b2 = params["W2"].copy(), params["b2"].reshape(1, 1).copy()
    X = x.reshape(2, 1)
    A1 = np.dot(W1.T, X) + b1
    y_hat = (np.dot(W2.T, A1) + b2)[0][0]
    error = y - y_hat
    W2_new = W2 + lr * 2 * error * A1
    b2_new = W2_new[0][0] + lr * 2 * error
    W1_new = W1 + lr * 2 * error * np.dot(X, W2.T)
    return {"W1": W1_new, "b1": b1, "W2": W2_new, "b2": b2_new}, error**2
