"""Keras's optimizers, one update formula per line, in numpy.

Each is Keras 3's ``update_step`` (keras/src/optimizers/*.py) for one parameter,
with Keras's defaults; ``g`` is dL/dw for the batch, ``w`` the parameter. Where
PyTorch's optimizer of the same name differs, a comment says how: a learner who
follows a PyTorch tutorial writes that form, and the harness tells them apart
(manual/batch/bugs.py holds the PyTorch forms as known-bad variants).

Constants reach the parameter's dtype as Keras's code takes them there, which
matters in float64: a Python float combined with a tensor (``1 - beta_1``, ``rho``,
``epsilon``) is rounded once to the tensor's dtype (``c``), but ``ops.cast`` of a
Python float (Adam's beta_1 and beta_2 in the bias corrections, SGD's momentum)
and the initializer of Adagrad's accumulators make a float32 first (``c32``):
in float64, Keras's Adam raises float32(0.999) = 0.9990000128746033 to the power t.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manual.network import Params

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "Adam", "Optimizer", "OptimizerConfig", "RMSprop", "make_optimizer"]


@dataclass(frozen=True)
class OptimizerConfig:
    """An optimizer by Keras's name and arguments; None: Keras's default."""

    name: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.0  # sgd
    nesterov: bool = False  # sgd
    beta_1: float = 0.9  # adam
    beta_2: float = 0.999  # adam
    rho: float = 0.9  # rmsprop
    initial_accumulator_value: float = 0.1  # adagrad
    epsilon: float = 1e-7  # adam, rmsprop, adagrad

    def keras_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``keras.optimizers.<Name>`` that this optimizer uses."""
        used = {
            "sgd": ("momentum", "nesterov"),
            "adam": ("beta_1", "beta_2", "epsilon"),
            "rmsprop": ("rho", "epsilon"),
            "adagrad": ("initial_accumulator_value", "epsilon"),
        }[self.name]
        return {"learning_rate": self.learning_rate} | {name: getattr(self, name) for name in used}


@dataclass
class Optimizer:
    """Per-parameter state and ``apply(params, grads) -> new params`` (a new dict)."""

    config: OptimizerConfig
    dtype: np.dtype[Any]
    state: dict[str, Params] = field(default_factory=dict)
    iterations: int = 0

    def c(self, value: float) -> np.floating:
        """A Python constant in an operation with a tensor: rounded once, to the working dtype."""
        return self.dtype.type(value)

    def c32(self, value: float) -> np.floating:
        """A Python constant through ``ops.cast``: a float32 tensor first, then the working dtype."""
        return self.dtype.type(np.float32(value))

    def apply(self, params: Params, grads: Params) -> Params:
        new = {key: self.update(key, params[key], grads[key]) for key in params}
        self.iterations += 1
        return new

    def slot(self, name: str, key: str, like: np.ndarray, start: float | np.floating = 0.0) -> np.ndarray:
        return self.state.setdefault(name, {}).setdefault(key, np.full_like(like, start))

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, with momentum mu and Nesterov's look-ahead when asked."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, mu = self.c(self.config.learning_rate), self.c32(self.config.momentum)
        if self.config.momentum == 0:
            return w - g * lr  # w = w - eta g
        m = self.slot("m", key, w)
        # Keras keeps the step itself, m = mu m - eta g; PyTorch keeps v = mu v + g and steps
        # w -= eta v (the same under a constant eta, rounded differently)
        m = m * mu - g * lr
        self.state["m"][key] = m
        if self.config.nesterov:
            return w + (m * mu - g * lr)  # w = w + mu m_new - eta g
        return w + m


class Adam(Optimizer):
    """Kingma and Ba's Adam: m, v moving averages of g and g^2; the bias corrections
    folded into the step size alpha = eta sqrt(1 - beta_2^t) / (1 - beta_1^t)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        lr, t = self.c(cfg.learning_rate), self.c(self.iterations + 1)
        beta_1_power = np.power(self.c32(cfg.beta_1), t)
        beta_2_power = np.power(self.c32(cfg.beta_2), t)
        m, v = self.slot("m", key, w), self.slot("v", key, w)
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m = m + (g - m) * self.c(1 - cfg.beta_1)  # m = beta_1 m + (1 - beta_1) g
        v = v + (np.square(g) - v) * self.c(1 - cfg.beta_2)  # v = beta_2 v + (1 - beta_2) g^2
        self.state["m"][key], self.state["v"][key] = m, v
        # epsilon is added to sqrt(v), before the bias correction; PyTorch adds it to
        # sqrt(v_hat) = sqrt(v / (1 - beta_2^t)), after: w -= eta m_hat / (sqrt(v_hat) + eps)
        return w - (m * alpha) / (np.sqrt(v) + self.c(cfg.epsilon))


class RMSprop(Optimizer):
    """Hinton's RMSprop: v a moving average of g^2, the step eta g / sqrt(v + eps)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        lr, rho = self.c(cfg.learning_rate), self.c(cfg.rho)
        v = self.slot("v", key, w)
        v = rho * v + self.c(1 - cfg.rho) * np.square(g)  # v = rho v + (1 - rho) g^2
        self.state["v"][key] = v
        # epsilon inside the square root; PyTorch divides by sqrt(v) + eps, with rho
        # (its alpha) 0.99 and eps 1e-8 by default
        return w - (lr * g) / np.sqrt(v + self.c(cfg.epsilon))


class Adagrad(Optimizer):
    """Duchi et al.'s Adagrad: a running sum of g^2, started at 0.1."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        lr = self.c(cfg.learning_rate)
        s = self.slot("s", key, w, self.c32(cfg.initial_accumulator_value))
        s = s + np.square(g)  # s = s + g^2
        self.state["s"][key] = s
        # PyTorch starts the sum at 0 and divides by sqrt(s) + eps, eps 1e-10
        return w - (lr * g) / np.sqrt(s + self.c(cfg.epsilon))


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def make_optimizer(config: OptimizerConfig, dtype: str, kinds: dict[str, type[Optimizer]] | None = None) -> Optimizer:
    """A fresh optimizer (no state) for parameters of ``dtype``; ``kinds`` replaces the table
    (the known-bad variants do)."""
    return (kinds or OPTIMIZERS)[config.name](config, np.dtype(dtype))
