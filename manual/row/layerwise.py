"""Backpropagation in matrix form, layer by layer, for any stack of dense layers.

Row vectors, as Keras lays them out: z_k = O_{k-1} W_k + b_k, O_k = act_k(z_k).
Dot products are written as a product then a sum, never ``@``: BLAS kernels may
fuse the multiply and the add (FMA) and so round differently from the document's
``w_11 x_1 + w_21 x_2``.
"""

from __future__ import annotations

import numpy as np

from manual.activations import ACTIVATIONS, derivative_from_output
from manual.network import Architecture, Params, Step
from manual.row.losses import LOSSES, output_delta

__all__ = ["backward", "forward", "layerwise_step", "sgd"]


def forward(arch: Architecture, params: Params, x: np.ndarray) -> list[np.ndarray]:
    """[O_0 = x, O_1, ..., O_L = y_hat]."""
    outputs = [x]
    for k, activation in enumerate(arch.activations, start=1):
        z = (outputs[-1][:, None] * params[f"W{k}"]).sum(axis=0) + params[f"b{k}"]
        outputs.append(ACTIVATIONS[activation](z))
    return outputs


def backward(arch: Architecture, params: Params, outputs: list[np.ndarray], y: np.floating) -> Params:
    """dL/dW_k and dL/db_k for every layer, from one forward pass."""
    L = arch.layers
    delta = output_delta(arch.loss, arch.activations[-1], y, outputs[L])  # dL/dz_L
    grads: Params = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = outputs[k - 1][:, None] * delta[None, :]  # dL/dW_k = O_{k-1}^T delta_k
        grads[f"b{k}"] = delta  # dL/db_k = delta_k
        if k > 1:
            back = (delta[None, :] * params[f"W{k}"]).sum(axis=1)  # dL/dO_{k-1} = delta_k W_k^T
            slope = derivative_from_output(arch.activations[k - 2], outputs[k - 1])
            delta = back if slope is None else back * slope  # dL/dz_{k-1}
    return grads


def sgd(params: Params, grads: Params, lr: np.floating) -> Params:
    """w_n = w_o - eta dL/dw_o, a new dict; the old one is left as it was."""
    return {key: params[key] - lr * grads[key] for key in params}


def layerwise_step(arch: Architecture) -> Step:
    """A step function for ``arch``: forward, backward, then update every layer at once."""
    loss = LOSSES[arch.loss]

    def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
        outputs = forward(arch, params, x)
        grads = backward(arch, params, outputs, y)
        return sgd(params, grads, lr), loss(y, outputs[-1])[0]

    return step
