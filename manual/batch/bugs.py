"""Known-bad variants of the general trainer: the mistakes and the other conventions
learners bring to a hand-written network, each one replaced piece of manual/batch/training.py.

The PyTorch forms (manual/batch/conventions.py) are here not because PyTorch is
wrong but because they are not what Keras computes: a learner comparing with
Keras who wrote PyTorch's Adam should be told so. PyTorch's SGD momentum (v = mu v + g, w -= eta v) is not here:
under a constant learning rate it is Keras's m = mu m - eta g times -eta, the
same updates, rounded differently (tests/test_network.py measures by how much).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from manual.activations import derivative_from_output
from manual.batch.conventions import PyTorchAdagrad, PyTorchRMSprop, TextbookAdam
from manual.batch.optimizers import OPTIMIZERS, SGD, Adam
from manual.batch.training import Pieces, row_delta
from manual.known_bug import KnownBug
from manual.network import Architecture

__all__ = ["MINIBATCH_BUGS"]

MinibatchBug = KnownBug[Pieces]


def _derivative(activation: str, wrong: Callable[[np.ndarray], np.ndarray]) -> Pieces:
    def derivative(layer: int, name: str, output: np.ndarray) -> np.ndarray | None:
        return wrong(output) if name == activation else derivative_from_output(name, output)

    return Pieces(derivative=derivative)


def _delta(wrong: Callable[[str, str, np.ndarray, np.ndarray], np.ndarray | None]) -> Pieces:
    return Pieces(row_delta=wrong)


def _optimizer(name: str, kind: type) -> Pieces:
    return Pieces(optimizers=OPTIMIZERS | {name: kind})


class _AdamWithoutBiasCorrection(Adam):
    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        m, v = self.slot("m", key, w), self.slot("v", key, w)
        m = m + (g - m) * self.c(1 - cfg.beta_1)
        v = v + (np.square(g) - v) * self.c(1 - cfg.beta_2)
        self.state["m"][key], self.state["v"][key] = m, v
        return w - self.c(cfg.learning_rate) * m / (np.sqrt(v) + self.c(cfg.epsilon))


class _NesterovAsMomentum(SGD):
    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        plain = replace(self.config, nesterov=False)
        return SGD(plain, self.dtype, self.state).update(key, w, g)


def _softmax_target_kept(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
    return Y_hat if activation == "softmax" else row_delta(loss, activation, Y, Y_hat)


def _mse_half(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
    delta = row_delta(loss, activation, Y, Y_hat)
    return None if delta is None else (delta / 2 if loss == "mean_squared_error" else delta)


def _output_mean_dropped(loss: str, activation: str, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray | None:
    delta = row_delta(loss, activation, Y, Y_hat)
    averaged = ("mean_squared_error", "mean_absolute_error", "binary_crossentropy")
    return None if delta is None else (delta * Y_hat.shape[-1] if loss in averaged else delta)


def _hidden(arch: Architecture) -> tuple[str, ...]:
    return arch.activations[:-1]


def _summed(values: np.ndarray) -> np.floating:
    total: np.floating = np.sum(values)
    return total


MINIBATCH_BUGS = {
    bug.name: bug
    for bug in [
        MinibatchBug(
            "relu-derivative-one",
            "relu's derivative is taken as 1 for negative inputs too",
            lambda arch, opt, batch: "relu" in _hidden(arch),
            _derivative("relu", np.ones_like),
        ),
        MinibatchBug(
            "tanh-derivative-1-minus-O",
            "tanh's derivative is written 1 - O instead of 1 - O^2",
            lambda arch, opt, batch: "tanh" in _hidden(arch),
            _derivative("tanh", lambda output: 1 - output),
        ),
        MinibatchBug(
            "sigmoid-derivative-dropped",
            "a sigmoid neuron's derivative O(1 - O) is left out",
            lambda arch, opt, batch: "sigmoid" in _hidden(arch),
            _derivative("sigmoid", np.ones_like),
        ),
        MinibatchBug(
            "softmax-target-not-subtracted",
            "the softmax cross-entropy error signal is Y_hat, without subtracting the target",
            lambda arch, opt, batch: arch.activations[-1] == "softmax",
            _delta(_softmax_target_kept),
        ),
        MinibatchBug(
            "mse-factor-two-dropped",
            "the squared error's derivative is missing its factor 2",
            lambda arch, opt, batch: arch.loss == "mean_squared_error",
            _delta(_mse_half),
        ),
        MinibatchBug(
            "output-mean-dropped",
            "the loss is summed over the outputs where Keras averages them",
            lambda arch, opt, batch: arch.sizes[-1] > 1 and arch.activations[-1] != "softmax",
            _delta(_output_mean_dropped),
        ),
        MinibatchBug(
            "loss-summed",
            "the batch's loss and gradient are summed over its rows instead of averaged",
            lambda arch, opt, batch: batch > 1,
            Pieces(batch_loss=_summed, divisor=lambda rows: 1),
        ),
        MinibatchBug(
            "adam-pytorch",
            "PyTorch's Adam: epsilon added to the bias-corrected sqrt(v_hat), not to sqrt(v)",
            lambda arch, opt, batch: opt.name == "adam",
            _optimizer("adam", TextbookAdam),
        ),
        MinibatchBug(
            "adam-no-bias-correction",
            "Adam without the bias corrections 1 - beta^t",
            lambda arch, opt, batch: opt.name == "adam",
            _optimizer("adam", _AdamWithoutBiasCorrection),
        ),
        MinibatchBug(
            "rmsprop-pytorch",
            "PyTorch's RMSprop: divides by sqrt(v) + epsilon, not sqrt(v + epsilon)",
            lambda arch, opt, batch: opt.name == "rmsprop",
            _optimizer("rmsprop", PyTorchRMSprop),
        ),
        MinibatchBug(
            "adagrad-pytorch",
            "PyTorch's Adagrad: the sum starts at 0, not 0.1, and epsilon is added to sqrt(s)",
            lambda arch, opt, batch: opt.name == "adagrad",
            _optimizer("adagrad", PyTorchAdagrad),
        ),
        MinibatchBug(
            "nesterov-as-momentum",
            "Nesterov momentum computed as plain momentum",
            lambda arch, opt, batch: opt.name == "sgd" and opt.nesterov,
            _optimizer("sgd", _NesterovAsMomentum),
        ),
    ]
}
