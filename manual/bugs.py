"""Known-bad backprop: the mistakes that circulate in notebooks of the tutorial.

Each variant is the correct layer-wise step with exactly one thing wrong, so a
harness that cannot tell it from Keras has a blind spot, and a user's trajectory
that one of them reproduces has a name for its bug. They are written for the
document's 2-2-1 network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from manual.layerwise import backward, forward, sgd
from manual.losses import LOSSES
from manual.network import Architecture, Params, Step

__all__ = ["KNOWN_BUGS", "KnownBug", "bugs_for"]

# (arch, params, x, y, lr) -> (new params, loss)
_Rule = Callable[[Architecture, Params, np.ndarray, np.floating, np.floating], tuple[Params, np.floating]]


@dataclass(frozen=True)
class KnownBug:
    name: str
    diagnosis: str  # what the code does, in the document's words
    rule: _Rule
    losses: frozenset[str] = frozenset({"mean_squared_error", "binary_crossentropy"})

    def step(self, arch: Architecture) -> Step:
        def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
            return self.rule(arch, params, x, y, lr)

        return step


def _loss(arch: Architecture, y: np.floating, outputs: list[np.ndarray]) -> np.floating:
    return LOSSES[arch.loss](y, outputs[-1])[0]


def _hidden_grads_with(
    arch: Architecture, params: Params, outputs: list[np.ndarray], y: np.floating, W2: np.ndarray
) -> Params:
    """The hidden layer's gradients as they come out when the error flows back through ``W2``."""
    return backward(arch, {**params, "W2": W2}, outputs, y)


def _b2_from_W2(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    grads = backward(arch, params, outputs, y)
    new = sgd(params, grads, lr)
    new["b2"] = params["W2"][-1] - lr * grads["b2"]  # b_21 = w^2_21 - eta dL/db_21
    return new, _loss(arch, y, outputs)


def _W2_updated_first(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    grads = backward(arch, params, outputs, y)
    W2_new = params["W2"] - lr * grads["W2"]
    late = _hidden_grads_with(arch, params, outputs, y, W2_new)
    return sgd(params, {**grads, "W1": late["W1"], "b1": late["b1"]}, lr), _loss(arch, y, outputs)


def _W1_indices_swapped(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    grads = backward(arch, params, outputs, y)
    # dL/dw^1_ij computed as x_j delta_i: input and hidden indices trade places
    return sgd(params, {**grads, "W1": grads["W1"].T}, lr), _loss(arch, y, outputs)


def _hidden_error_crossed(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    grads = backward(arch, params, outputs, y)
    # hidden neuron 1 takes its error through w^2_21, neuron 2 through w^2_11
    crossed = _hidden_grads_with(arch, params, outputs, y, params["W2"][::-1])
    return sgd(params, {**grads, "W1": crossed["W1"], "b1": crossed["b1"]}, lr), _loss(arch, y, outputs)


def _sigmoid_derivative_dropped(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    # backpropagate as if the hidden neurons were linear: O(1 - O) is missing
    as_linear = Architecture(arch.sizes, ("linear", *arch.activations[1:]), arch.loss)
    grads = backward(as_linear, params, outputs, y)
    return sgd(params, grads, lr), _loss(arch, y, outputs)


def _factor_two_dropped(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    grads = backward(arch, params, outputs, y)
    # -(y - y_hat) where the derivative of (y - y_hat)^2 is -2(y - y_hat); halving is exact
    return sgd(params, {key: g / 2 for key, g in grads.items()}, lr), _loss(arch, y, outputs)


def _loss_after_update(
    arch: Architecture, params: Params, x: np.ndarray, y: np.floating, lr: np.floating
) -> tuple[Params, np.floating]:
    outputs = forward(arch, params, x)
    new = sgd(params, backward(arch, params, outputs, y), lr)
    return new, _loss(arch, y, forward(arch, new, x))


KNOWN_BUGS = {
    bug.name: bug
    for bug in [
        KnownBug("b2-from-W2", "b_21 is updated from w^2_21 instead of b_21", _b2_from_W2),
        KnownBug(
            "W2-updated-first",
            "the output layer is updated before the hidden-layer gradient uses it",
            _W2_updated_first,
        ),
        KnownBug(
            "W1-indices-swapped",
            "the input and hidden indices of w^1 are swapped in its gradient (x_j delta_i for w^1_ij)",
            _W1_indices_swapped,
        ),
        KnownBug(
            "hidden-error-crossed",
            "each hidden neuron takes its error through the other neuron's output weight",
            _hidden_error_crossed,
        ),
        KnownBug(
            "sigmoid-derivative-dropped",
            "the sigmoid derivative O(1 - O) of the hidden neurons is missing",
            _sigmoid_derivative_dropped,
            frozenset({"binary_crossentropy"}),
        ),
        KnownBug(
            "factor-two-dropped",
            "the factor 2 of the squared-error derivative -2(y - y_hat) is missing",
            _factor_two_dropped,
            frozenset({"mean_squared_error"}),
        ),
        KnownBug("loss-after-update", "the reported loss is computed after the update", _loss_after_update),
    ]
}


def bugs_for(arch: Architecture) -> list[KnownBug]:
    """The known bugs that make sense for this network's loss."""
    return [bug for bug in KNOWN_BUGS.values() if arch.loss in bug.losses]
