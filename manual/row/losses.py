"""Per-row losses and the error signal dL/dz at the output neuron.

Loss names are Keras's, the vocabulary shared with reference/.
"""

from __future__ import annotations

import numpy as np

from manual.network import Value

__all__ = ["LOSSES", "binary_crossentropy", "output_delta", "squared_error"]


def squared_error(y: Value, y_hat: Value) -> Value:
    # L = (y - y_hat)^2, the document's regression loss
    return np.square(y - y_hat)


def binary_crossentropy(y: Value, y_hat: Value) -> Value:
    # L = -y log(y_hat) - (1 - y) log(1 - y_hat), the document's classification loss
    return -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)


LOSSES = {"mean_squared_error": squared_error, "binary_crossentropy": binary_crossentropy}


def output_delta(loss: str, activation: str, y: Value, y_hat: Value) -> Value:
    """dL/dz for the output neuron's pre-activation z.

    Only the two pairings the document uses exist so far; both collapse to the
    document's closed forms (sigmoid's derivative cancels the cross-entropy's
    denominator), which is also what Keras differentiates.
    """
    if (loss, activation) == ("mean_squared_error", "linear"):
        return -2 * (y - y_hat)
    if (loss, activation) == ("binary_crossentropy", "sigmoid"):
        return -(y - y_hat)
    raise ValueError(f"no output delta for loss {loss!r} with activation {activation!r}")
