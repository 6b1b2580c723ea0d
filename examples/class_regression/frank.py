"""Frank: the output bias never updated, and the loss after the update."""

import numpy as np


def forward(params, x):
    h = x @ params["W1"] + params["b1"]
    return h, h @ params["W2"][:, 0] + params["b2"][0]


def step(params, x, y, lr):
    W1, W2 = params["W1"], params["W2"]
    h, y_hat = forward(params, x)
    e = -2 * (y - y_hat)
    new = {"W1": W1 - lr * e * np.outer(x, W2[:, 0]), "b1": params["b1"] - lr * e * W2[:, 0]}
    new |= {"W2": W2 - lr * e * h[:, None], "b2": params["b2"]}
    return new, (y - forward(new, x)[1]) ** 2
