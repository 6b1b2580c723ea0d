"""A learner's step for any dense network, in Keras's layout, and one known-bad variant per finding kind.

``network_step(BUG)`` is the source of a step ``step(params, x, y, lr)`` that reads
the network from the params it is given and the constants ACTIVATIONS and LOSS,
written the way vectorized backprop is taught: a forward pass keeping every
layer's output A_k, the output delta dZ_L, then one layer at a time from the
last, dW_k = A_{k-1}.T @ dZ_k, db_k = dZ_k.sum(axis=0), dZ_{k-1} = dZ_k @ W_k.T * slope.
BUG (None: the correct step) switches one line to a mistake learners make; the
finding each must get sits beside it in tests/test_network_diagnosis.py.
"""

from __future__ import annotations

__all__ = ["BUGS", "network_step"]

TEMPLATE = """
import numpy as np

ACTIVATIONS = {activations!r}
LOSS = {loss!r}
BUG = {bug!r}
LAYER = {layer!r}


def act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def slope(name, a, k):
    if BUG == "activation-derivative" and k == LAYER:
        return {{"tanh": 1 - a, "sigmoid": np.ones_like(a), "relu": np.ones_like(a), "linear": a * (1 - a)}}[name]
    return {{"tanh": 1 - a**2, "sigmoid": a * (1 - a), "relu": (a > 0) * 1.0, "linear": np.ones_like(a)}}[name]


def step(params, x, y, lr):
    L = len(ACTIVATIONS)
    X = np.atleast_2d(np.asarray(x, dtype=float))
    B = len(X)
    if LOSS == "sparse_categorical_crossentropy":
        Y = np.eye(params[f"W{{L}}"].shape[1])[np.asarray(y).reshape(-1).astype(int)]
    else:
        Y = np.asarray(y, dtype=float).reshape(B, -1)
    A = [X]
    for k in range(1, L + 1):
        A.append(act(ACTIVATIONS[k - 1], A[-1] @ params[f"W{{k}}"] + params[f"b{{k}}"]))
    Y_hat, n = A[-1], Y.shape[1]
    if LOSS == "mean_squared_error":
        loss = np.mean(np.mean((Y - Y_hat) ** 2, axis=1))
        dZ = 2 * (Y_hat - Y) / n * slope(ACTIVATIONS[-1], Y_hat, L)
        if BUG == "loss-gradient":
            dZ = (Y_hat - Y) / n * slope(ACTIVATIONS[-1], Y_hat, L)  # the factor 2 dropped
    elif LOSS == "binary_crossentropy":
        loss = -np.mean(np.mean(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat), axis=1))
        dZ = (Y_hat - Y) / n
        if BUG == "loss-gradient":
            dZ = (Y_hat - Y) / n * Y_hat * (1 - Y_hat)  # the sigmoid's slope again
    else:
        loss = -np.mean(np.sum(Y * np.log(Y_hat), axis=1))
        dZ = Y_hat - Y
        if BUG == "loss-gradient":
            dZ = Y_hat  # the target not subtracted
    if BUG == "forward":
        loss = loss * n  # summed over the outputs
    dZ = dZ / B
    if BUG == "batch-reduction":
        dZ = dZ * B  # summed over the batch
    new = {{}}
    W = dict(params)
    grads = {{}}
    for k in range(L, 0, -1):
        dW = A[k - 1].T @ dZ
        db = dZ.sum(axis=0)
        if BUG == "first-row-only" and k == LAYER:
            db = dZ[0]
        if BUG == "db-summed-over-units" and k == LAYER:
            db = np.full_like(db, np.sum(dZ))  # np.sum without axis=0
        if BUG == "wrong" and k == LAYER:
            dW = (A[k - 1] ** 2).T @ dZ
        grads[f"W{{k}}"], grads[f"b{{k}}"] = dW, db
        new[f"W{{k}}"] = params[f"W{{k}}"] - lr * (dW.T if BUG == "transposed" and k == LAYER else dW)
        if BUG == "stale-weights" and k == LAYER:
            W[f"W{{k}}"] = new[f"W{{k}}"]
        if k > 1:
            back = W[f"W{{k}}"] if BUG == "backprop-through-W" and k == LAYER else W[f"W{{k}}"].T
            dZ = (dZ @ back) * slope(ACTIVATIONS[k - 2], A[k - 1], k - 1)
    for k in range(1, L + 1):
        db = grads[f"b{{k}}"]
        if BUG == "other-gradient" and k == LAYER:
            db = grads[f"b{{k + 1}}"]
        if BUG == "sign" and k == LAYER:
            db = -db
        if BUG == "scaled" and k == LAYER:
            db = 10 * db  # a learning rate typed ten times too large
        new[f"b{{k}}"] = params[f"b{{k}}"] - lr * db
        if BUG == "not-updated" and k == LAYER:
            new[f"b{{k}}"] = params[f"b{{k}}"]
    if BUG == "loss-after-update":
        A = [X]
        for k in range(1, L + 1):
            A.append(act(ACTIVATIONS[k - 1], A[-1] @ new[f"W{{k}}"] + new[f"b{{k}}"]))
        if LOSS == "mean_squared_error":
            loss = np.mean(np.mean((Y - A[-1]) ** 2, axis=1))
        else:
            loss = -np.mean(np.sum(Y * np.log(A[-1]), axis=1))
    return new, loss
"""

# Every bug the template can plant: a finding kind's name, or the slip's where one kind has two.
BUGS = (
    "activation-derivative",
    "loss-gradient",
    "batch-reduction",
    "first-row-only",
    "db-summed-over-units",
    "transposed",
    "backprop-through-W",
    "stale-weights",
    "not-updated",
    "other-gradient",
    "sign",
    "scaled",
    "forward",
    "loss-after-update",
    "wrong",
)


def network_step(activations: tuple[str, ...], loss: str, bug: str | None = None, layer: int | None = None) -> str:
    """The step's source for this network, with ``bug`` planted in ``layer``."""
    return TEMPLATE.format(activations=list(activations), loss=loss, bug=bug, layer=layer)
