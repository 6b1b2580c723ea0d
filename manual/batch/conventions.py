"""The same optimizers as other people write them: conventions, not bugs.

Keras's forms are manual/batch/optimizers.py's. A learner who follows Kingma and
Ba's paper, PyTorch or deeplearning.ai writes another form of the same method,
and is right; the audit names the convention rather than calling it a bug. Each
class below changes the one line where its convention differs.

A learner writes the constants as Python floats: every convention here, Keras's
too (``exact``), rounds each constant once to the working dtype, where Keras
itself takes beta_1 and beta_2 through float32 in its bias corrections
(optimizers.py's ``c32``). The audit says by how much that moves Keras itself.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from manual.batch.optimizers import SGD, Adagrad, Adam, Optimizer, OptimizerConfig, RMSprop

__all__ = [
    "CONVENTIONS",
    "Convention",
    "EMAMomentum",
    "PyTorchAdagrad",
    "PyTorchMomentum",
    "PyTorchRMSprop",
    "TextbookAdam",
    "exact",
]


def exact(kind: type[Optimizer]) -> type[Optimizer]:
    """Keras's form with its constants rounded once to the working dtype, as a learner's Python floats are."""
    return type(f"Exact{kind.__name__}", (kind,), {"c32": Optimizer.c})


class TextbookAdam(Adam):
    """Kingma and Ba's Algorithm 1, as PyTorch and deeplearning.ai write it: the bias corrections
    applied to m and v themselves, epsilon added to sqrt(v_hat)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg, t = self.config, self.iterations + 1
        m, v = self.slot("m", key, w), self.slot("v", key, w)
        m = self.c(cfg.beta_1) * m + self.c(1 - cfg.beta_1) * g  # m = beta_1 m + (1 - beta_1) g
        v = self.c(cfg.beta_2) * v + self.c(1 - cfg.beta_2) * np.square(g)  # v = beta_2 v + (1 - beta_2) g^2
        self.state["m"][key], self.state["v"][key] = m, v
        m_hat = m / (1 - self.c(cfg.beta_1) ** t)  # m_hat = m / (1 - beta_1^t)
        v_hat = v / (1 - self.c(cfg.beta_2) ** t)  # v_hat = v / (1 - beta_2^t)
        return w - self.c(cfg.learning_rate) * m_hat / (np.sqrt(v_hat) + self.c(cfg.epsilon))


class PyTorchRMSprop(RMSprop):
    """PyTorch's RMSprop: divides by sqrt(v) + epsilon, not sqrt(v + epsilon)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        v = self.slot("v", key, w)
        v = self.c(cfg.rho) * v + self.c(1 - cfg.rho) * np.square(g)  # v = rho v + (1 - rho) g^2
        self.state["v"][key] = v
        return w - (self.c(cfg.learning_rate) * g) / (np.sqrt(v) + self.c(cfg.epsilon))


class PyTorchAdagrad(Adagrad):
    """PyTorch's Adagrad (and Deep Learning from Scratch's): the sum starts at 0, not 0.1, and
    epsilon is added to sqrt(s) (PyTorch's own default is 1e-10, the book's 1e-7)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        s = self.slot("s", key, w) + np.square(g)  # s = s + g^2, from 0
        self.state["s"][key] = s
        return w - (self.c(self.config.learning_rate) * g) / (np.sqrt(s) + self.c(self.config.epsilon))


class EMAMomentum(SGD):
    """deeplearning.ai's momentum: v an exponential average of g, v = beta v + (1 - beta) g,
    w = w - eta v. In exact arithmetic Keras's momentum at learning rate eta (1 - beta)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        beta = self.config.momentum
        v = self.slot("v", key, w)
        v = self.c(beta) * v + self.c(1 - beta) * g  # v = beta v + (1 - beta) g
        self.state["v"][key] = v
        return w - self.c(self.config.learning_rate) * v  # w = w - eta v


class PyTorchMomentum(SGD):
    """PyTorch's momentum: v = mu v + g, w = w - eta v; under a constant eta, Keras's m = mu m - eta g
    is -eta v, the same updates rounded differently."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        v = self.slot("v", key, w)
        v = self.c(self.config.momentum) * v + g  # v = mu v + g
        self.state["v"][key] = v
        return w - self.c(self.config.learning_rate) * v  # w = w - eta v


Convention = tuple[type[Optimizer], str]  # the form, and who writes it so

# Per optimizer, as the audit names it: ``momentum`` is SGD with momentum. Keras's first.
CONVENTIONS: dict[str, dict[str, Convention]] = {
    "sgd": {"keras": (exact(SGD), "Keras's gradient descent")},
    "momentum": {
        "keras": (exact(SGD), "Keras's momentum, m = mu m - eta g, w = w + m"),
        "deeplearning.ai": (EMAMomentum, "deeplearning.ai's momentum, v = beta v + (1 - beta) g, w = w - eta v"),
        "pytorch": (PyTorchMomentum, "PyTorch's momentum, v = mu v + g, w = w - eta v"),
    },
    "adam": {
        "keras": (
            exact(Adam),
            "Keras's Adam, the bias corrections folded into the step size, epsilon added to sqrt(v)",
        ),
        "textbook": (TextbookAdam, "Kingma and Ba's Adam (PyTorch's, deeplearning.ai's), epsilon added to sqrt(v_hat)"),
    },
    "rmsprop": {
        "keras": (exact(RMSprop), "Keras's RMSprop, epsilon inside the square root"),
        "pytorch": (PyTorchRMSprop, "PyTorch's RMSprop, epsilon added to sqrt(v)"),
    },
    "adagrad": {
        "keras": (exact(Adagrad), "Keras's Adagrad, the sum started at 0.1, epsilon inside the square root"),
        "pytorch": (PyTorchAdagrad, "PyTorch's Adagrad, the sum started at 0, epsilon added to sqrt(s)"),
    },
}


def keras_equivalent(convention: str, config: OptimizerConfig) -> OptimizerConfig:
    """Keras's optimizer that computes the same updates as ``convention`` in exact arithmetic:
    deeplearning.ai's momentum is Keras's at learning rate eta (1 - beta); the others are Keras's own."""
    if convention == "deeplearning.ai":
        return replace(config, learning_rate=config.learning_rate * (1 - config.momentum))
    return config
