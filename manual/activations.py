"""Neuron activations and their derivatives, written as the document writes them.

Each derivative is expressed through the neuron's *output* O, as the document's
``O_{11}(1 - O_{11})`` does, so backprop never needs the pre-activation.
"""

from __future__ import annotations

import numpy as np

from manual.network import Value

__all__ = ["ACTIVATIONS", "derivative_from_output", "linear", "relu", "sigmoid", "softmax", "tanh"]


def linear(z: Value) -> Value:
    return z


def sigmoid(z: Value) -> Value:
    with np.errstate(over="ignore"):  # e^-z overflows to inf for z below about -709: 1 / inf is the 0 wanted
        return 1 / (1 + np.exp(-z))


def tanh(z: Value) -> Value:
    return np.tanh(z)


def relu(z: Value) -> Value:
    return np.maximum(z, 0)


def softmax(z: Value) -> Value:
    """Along the last axis, shifted by its maximum as TensorFlow's kernel does."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def derivative_from_output(activation: str, output: Value) -> Value | None:
    """dO/dz in terms of O; None where it is identically 1 (multiplying by 1 is exact).
    Softmax has none here: its Jacobian is not elementwise, and the losses it pairs with
    differentiate through it (manual/batch/training.py)."""
    if activation == "linear":
        return None
    if activation == "sigmoid":
        return output * (1 - output)  # O(1 - O)
    if activation == "tanh":
        return 1 - output * output  # 1 - O^2
    if activation == "relu":
        return (output > 0).astype(output.dtype)  # 1 where z > 0; 0 at z = 0, as TensorFlow's ReluGrad
    raise ValueError(f"no elementwise derivative for activation {activation!r}")


# Keras's names for the activations, shared vocabulary with reference/.
ACTIVATIONS = {"linear": linear, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softmax": softmax}
