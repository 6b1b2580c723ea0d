"""Known-bad backprop: the mistakes that circulate in notebooks of the tutorial.

Each bug is one switch on the correct layer-wise step, so a harness that cannot
tell it from Keras has a blind spot, and a user's trajectory that a set of them
reproduces has names for its bugs. The switches compose the way the mistakes do
in a notebook that updates its parameters one line at a time: with
``W2-updated-first`` on, a ``b2-from-W2`` update sees the already-updated w^2_21.
They are written for the document's 2-2-1 network.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial

import numpy as np

from manual.known_bug import KnownBug
from manual.network import Architecture, Params, Step
from manual.row.layerwise import backward, forward, sgd
from manual.row.losses import LOSSES

__all__ = ["KNOWN_BUGS", "RowBug", "buggy_step", "bugs_for"]

_BOTH = ("mean_squared_error", "binary_crossentropy")
RowBug = KnownBug[Callable[[Architecture], Step]]  # its implementation makes the buggy step for a network


def _bug(name: str, diagnosis: str, losses: tuple[str, ...] = _BOTH) -> RowBug:
    """One switch on the layer-wise step, for the document's networks with one of ``losses``."""
    return KnownBug(
        name, diagnosis, lambda arch, optimizer, batch: arch.loss in losses, partial(_one_bug_step, name=name)
    )


def _one_bug_step(arch: Architecture, name: str) -> Step:
    return buggy_step(arch, {name})


KNOWN_BUGS = {
    bug.name: bug
    for bug in [
        _bug("b2-from-W2", "b_21 is updated from w^2_21 instead of b_21"),
        _bug("W2-updated-first", "the output layer is updated before the hidden-layer gradient uses it"),
        _bug(
            "W1-indices-swapped",
            "the input and hidden indices of w^1 are swapped in its gradient (x_j delta_i for w^1_ij)",
        ),
        _bug("hidden-error-crossed", "each hidden neuron takes its error through the other neuron's output weight"),
        _bug(
            "sigmoid-derivative-dropped",
            "the sigmoid derivative O(1 - O) of the hidden neurons is missing",
            ("binary_crossentropy",),
        ),
        _bug(
            "factor-two-dropped",
            "the factor 2 of the squared-error derivative -2(y - y_hat) is missing",
            ("mean_squared_error",),
        ),
        _bug("loss-after-update", "the reported loss is computed after the update"),
    ]
}


def bugs_for(arch: Architecture) -> list[RowBug]:
    """The known bugs that make sense for this network's loss."""
    return [bug for bug in KNOWN_BUGS.values() if bug.applies(arch, None, 1)]


def buggy_step(arch: Architecture, bugs: Collection[str]) -> Step:
    """The correct layer-wise step with every named bug switched on (none: the correct step)."""
    unknown = set(bugs) - set(KNOWN_BUGS)
    if unknown:
        raise ValueError(f"unknown bugs {sorted(unknown)}")
    on = frozenset(bugs)
    loss = LOSSES[arch.loss]
    # backpropagate as if the hidden neurons were linear: O(1 - O) is missing
    slopes = Architecture(arch.sizes, ("linear", *arch.activations[1:]), arch.loss)
    back_arch = slopes if "sigmoid-derivative-dropped" in on else arch

    def grads_through(params: Params, outputs: list[np.ndarray], y: np.floating, W2: np.ndarray) -> Params:
        grads = backward(back_arch, {**params, "W2": W2}, outputs, y)
        if "factor-two-dropped" in on:
            # -(y - y_hat) where the derivative of (y - y_hat)^2 is -2(y - y_hat); halving is exact
            grads = {key: g / 2 for key, g in grads.items()}
        return grads

    def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
        outputs = forward(arch, params, x)
        grads = grads_through(params, outputs, y, params["W2"])
        W2_seen = params["W2"]  # the output weights as the hidden layer's update sees them
        if "W2-updated-first" in on:
            W2_seen = params["W2"] - lr * grads["W2"]
        # hidden neuron 1 takes its error through w^2_21, neuron 2 through w^2_11
        W2_route = W2_seen[::-1] if "hidden-error-crossed" in on else W2_seen
        if W2_route is not params["W2"]:
            late = grads_through(params, outputs, y, W2_route)
            grads = {**grads, "W1": late["W1"], "b1": late["b1"]}
        if "W1-indices-swapped" in on:
            grads = {**grads, "W1": grads["W1"].T}  # dL/dw^1_ij computed as x_j delta_i
        new = sgd(params, grads, lr)
        if "b2-from-W2" in on:
            new["b2"] = W2_seen[-1] - lr * grads["b2"]  # b_21 = w^2_21 - eta dL/db_21
        reported = forward(arch, new, x) if "loss-after-update" in on else outputs
        return new, loss(y, reported[-1])[0]

    return step
