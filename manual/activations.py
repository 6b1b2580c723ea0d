"""Neuron activations and their derivatives, written as the document writes them.

Each derivative is expressed through the neuron's *output* O, as the document's
``O_{11}(1 - O_{11})`` does, so backprop never needs the pre-activation.
"""

from __future__ import annotations

import numpy as np

from manual.network import Value

__all__ = ["ACTIVATIONS", "derivative_from_output", "linear", "sigmoid"]


def linear(z: Value) -> Value:
    return z


def sigmoid(z: Value) -> Value:
    return 1 / (1 + np.exp(-z))


def derivative_from_output(activation: str, output: Value) -> Value | None:
    """dO/dz in terms of O; None where it is identically 1 (multiplying by 1 is exact)."""
    if activation == "linear":
        return None
    if activation == "sigmoid":
        return output * (1 - output)  # O(1 - O)
    raise ValueError(f"unknown activation {activation!r}")


# Keras's names for the activations, shared vocabulary with reference/.
ACTIVATIONS = {"linear": linear, "sigmoid": sigmoid}
