"""The mistakes learners make when they write an optimizer by hand, one class each.

Each is written on the form the learner started from, and changes the line the
learner gets wrong: Adam on deeplearning.ai's and PyTorch's (conventions.py's
``TextbookAdam``), momentum on deeplearning.ai's (``EMAMomentum``), RMSprop on
Keras's, Adagrad on PyTorch's (a sum started at 0, as learners write it). Adam's
are in adam_bugs.py. The names are the paper's: deeplearning.ai's v, s, v_corrected,
s_corrected are Adam's m, v, m_hat, v_hat here.

Each computes what the learner's code computes, NaN included: epsilon moved out of
the denominator leaves 0 / 0 where a gradient is 0, and g in place of g^2 takes the
square root of a negative average. numpy's warnings are silenced there, not the NaN.

Not here, because they are conventions and not mistakes: epsilon added to sqrt(v) in
RMSprop (PyTorch's), momentum written v = beta v + g with w -= eta (1 - beta) v (in
exact arithmetic deeplearning.ai's v = beta v + (1 - beta) g, w -= eta v, whose v it
is times 1 - beta). Not here either, because it is the same numbers as another entry:
t never incremented (t = 1 every step) corrects by 1 - beta^1 = 1 - beta, which is
``bias-correction-without-power``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manual.batch.adam_bugs import (
    AdamStateNotCarried,
    BiasCorrectionMissing,
    BiasCorrectionWithoutPower,
    EpsilonAddedToStep,
    EpsilonInsideSqrt,
    EpsilonOutsideFraction,
    FirstMomentWithoutGradient,
    LearnerAdam,
    LearningRateTwice,
    SecondMomentOfG,
    SecondMomentUncorrected,
    SecondMomentWithBeta1,
    SquareRootMissing,
    StepWithGradient,
    TIsTheLayer,
    TOffByOne,
)
from manual.batch.conventions import EMAMomentum, PyTorchAdagrad
from manual.batch.optimizers import SGD, Optimizer, RMSprop

__all__ = ["KINDS", "OPTIMIZER_BUGS", "LearnerAdam", "OptimizerBug"]

# The audit's finding kinds that an optimizer's mistake is reported as.
KINDS = (
    "epsilon-placement",
    "bias-correction",
    "second-moment",
    "first-moment",
    "state",
    "not-updated",
    "scaled",
    "sign",
)


@dataclass(frozen=True)
class OptimizerBug:
    """A learner's mistake in an optimizer: its name, the finding it is reported as, the
    optimizer (the audit's name: ``momentum`` is SGD with momentum), what the code does and
    what to check (in the learner's words), and the wrong code itself."""

    name: str
    kind: str
    optimizer: str
    description: str
    form: type[Optimizer]


# Momentum: on deeplearning.ai's, v = beta v + (1 - beta) g, w = w - eta v


class MomentumStateNotCarried(EMAMomentum):
    """v never kept: v = (1 - beta) g every step, gradient descent at eta (1 - beta)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        beta = self.config.momentum
        v = np.zeros_like(w)  # v = 0, every step
        v = self.c(beta) * v + self.c(1 - beta) * g  # v = beta v + (1 - beta) g
        return w - self.c(self.config.learning_rate) * v  # w = w - eta v


class MomentumStepWithGradient(EMAMomentum):
    """v computed, the step taken with g: plain gradient descent."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        beta = self.config.momentum
        v = self.slot("v", key, w)
        v = self.c(beta) * v + self.c(1 - beta) * g  # v = beta v + (1 - beta) g
        self.state["v"][key] = v
        return w - self.c(self.config.learning_rate) * g  # w = w - eta g, not eta v


class MomentumSign(EMAMomentum):
    """the step added: w = w + eta v, uphill."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        beta = self.config.momentum
        v = self.slot("v", key, w)
        v = self.c(beta) * v + self.c(1 - beta) * g  # v = beta v + (1 - beta) g
        self.state["v"][key] = v
        return w + self.c(self.config.learning_rate) * v  # w = w + eta v


# RMSprop: on Keras's, v = rho v + (1 - rho) g^2, w = w - eta g / sqrt(v + eps)


class RMSpropRhoSwapped(RMSprop):
    """rho and 1 - rho swapped: v = (1 - rho) v + rho g^2, a short memory of g^2 (9 times it on the first step)."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        v = self.slot("v", key, w)
        v = self.c(1 - cfg.rho) * v + self.c(cfg.rho) * np.square(g)  # v = (1 - rho) v + rho g^2
        self.state["v"][key] = v
        return w - (self.c(cfg.learning_rate) * g) / np.sqrt(v + self.c(cfg.epsilon))


class RMSpropSquareRootMissing(RMSprop):
    """the step divided by v + eps, a square, where RMSprop divides by its square root."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        v = self.slot("v", key, w)
        v = self.c(cfg.rho) * v + self.c(1 - cfg.rho) * np.square(g)  # v = rho v + (1 - rho) g^2
        self.state["v"][key] = v
        return w - (self.c(cfg.learning_rate) * g) / (v + self.c(cfg.epsilon))  # eta g / (v + eps)


class RMSpropStateNotCarried(RMSprop):
    """v never kept: v = (1 - rho) g^2 every step, each step the size of RMSprop's first."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        cfg = self.config
        v = np.zeros_like(w)  # v = 0, every step
        v = self.c(cfg.rho) * v + self.c(1 - cfg.rho) * np.square(g)  # v = rho v + (1 - rho) g^2
        return w - (self.c(cfg.learning_rate) * g) / np.sqrt(v + self.c(cfg.epsilon))


# Adagrad: on PyTorch's, s = s + g^2 from 0, w = w - eta g / (sqrt(s) + eps)


class AdagradSumNotAccumulated(PyTorchAdagrad):
    """s = g^2 where s = s + g^2 belongs: the sum forgotten, every step the first step's size."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        s = np.square(g)  # s = g^2, not s + g^2
        return w - (self.c(self.config.learning_rate) * g) / (np.sqrt(s) + self.c(self.config.epsilon))


# Gradient descent


class SGDUpdateDropped(SGD):
    """w - eta g computed and never assigned (a loop variable rebound, a copy updated): no weight moves."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        w_new = w - self.c(self.config.learning_rate) * g  # w_new = w - eta g, then dropped
        del w_new
        return w


class SGDSign(SGD):
    """the gradient added: w = w + eta g, uphill."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        return w + self.c(self.config.learning_rate) * g  # w = w + eta g


# fmt: off
_BUGS = (
    OptimizerBug("epsilon-inside-sqrt", "epsilon-placement", "adam",
                 "eps inside the square root, sqrt(v_hat + eps): check eps is added after it, sqrt(v_hat) + eps",
                 EpsilonInsideSqrt),
    OptimizerBug("epsilon-outside-fraction", "epsilon-placement", "adam",
                 "eps added after the division, eta m_hat / sqrt(v_hat) + eps: check it is in the denominator",
                 EpsilonOutsideFraction),
    OptimizerBug("epsilon-added-to-step", "epsilon-placement", "adam",
                 "eps added to the ratio, eta (m_hat / sqrt(v_hat) + eps): check it is in the denominator",
                 EpsilonAddedToStep),
    OptimizerBug("bias-correction-missing", "bias-correction", "adam",
                 "m and v used uncorrected: check the step uses m / (1 - beta_1^t) and v / (1 - beta_2^t)",
                 BiasCorrectionMissing),
    OptimizerBug("bias-correction-without-power", "bias-correction", "adam",
                 "divided by 1 - beta, not 1 - beta^t (t stuck at 1?): check the power t and that t counts steps",
                 BiasCorrectionWithoutPower),
    OptimizerBug("t-is-the-layer", "bias-correction", "adam",
                 "the layer's number where t belongs, 1 - beta^l: check the bias corrections use t, the step count",
                 TIsTheLayer),
    OptimizerBug("t-off-by-one", "bias-correction", "adam",
                 "t one ahead, t = 2 on the first step: check t starts at 0 and is incremented once a step",
                 TOffByOne),
    OptimizerBug("second-moment-uncorrected", "second-moment", "adam",
                 "m_hat corrected but v used uncorrected: check the denominator is sqrt(v_hat), v / (1 - beta_2^t)",
                 SecondMomentUncorrected),
    OptimizerBug("second-moment-with-beta1", "second-moment", "adam",
                 "v averaged with beta_1: check v = beta_2 v + (1 - beta_2) g^2",
                 SecondMomentWithBeta1),
    OptimizerBug("second-moment-of-g", "second-moment", "adam",
                 "v averages g, not g^2: check the square in v = beta_2 v + (1 - beta_2) g^2",
                 SecondMomentOfG),
    OptimizerBug("square-root-missing", "second-moment", "adam",
                 "divided by v_hat + eps, not sqrt(v_hat) + eps: check the square root",
                 SquareRootMissing),
    OptimizerBug("first-moment-without-gradient", "first-moment", "adam",
                 "never moves: m = beta_1 m keeps m at 0 (check m = beta_1 m + (1 - beta_1) g), or the line that "
                 "applies the step is missing",
                 FirstMomentWithoutGradient),
    OptimizerBug("step-with-gradient", "first-moment", "adam",
                 "the step uses g, not m_hat: check w = w - eta m_hat / (sqrt(v_hat) + eps)",
                 StepWithGradient),
    OptimizerBug("adam-state-not-carried", "state", "adam",
                 "m and v start from 0 every step: check they are initialized once, before the loop, and kept",
                 AdamStateNotCarried),
    OptimizerBug("learning-rate-twice", "scaled", "adam",
                 "every step eta times too small, eta applied twice: check eta multiplies the step once",
                 LearningRateTwice),
    OptimizerBug("momentum-state-not-carried", "state", "momentum",
                 "v starts from 0 every step, v = (1 - beta) g: check v is initialized once, before the loop, and kept",
                 MomentumStateNotCarried),
    OptimizerBug("momentum-step-with-gradient", "first-moment", "momentum",
                 "v computed but the step uses g: check w = w - eta v",
                 MomentumStepWithGradient),
    OptimizerBug("momentum-sign", "sign", "momentum",
                 "the step added, w = w + eta v: check w = w - eta v",
                 MomentumSign),
    OptimizerBug("rmsprop-rho-swapped", "second-moment", "rmsprop",
                 "rho and 1 - rho swapped, v = (1 - rho) v + rho g^2: check v = rho v + (1 - rho) g^2",
                 RMSpropRhoSwapped),
    OptimizerBug("rmsprop-square-root-missing", "second-moment", "rmsprop",
                 "divided by v + eps, not sqrt(v + eps): check the square root",
                 RMSpropSquareRootMissing),
    OptimizerBug("rmsprop-state-not-carried", "state", "rmsprop",
                 "v starts from 0 every step, v = (1 - rho) g^2: check v is initialized once, before the loop",
                 RMSpropStateNotCarried),
    OptimizerBug("adagrad-sum-not-accumulated", "state", "adagrad",
                 "s = g^2 every step: check s = s + g^2, the sum kept from step to step",
                 AdagradSumNotAccumulated),
    OptimizerBug("sgd-update-dropped", "not-updated", "sgd",
                 "w - eta g computed but never assigned: check each parameter is written back (not a loop variable)",
                 SGDUpdateDropped),
    OptimizerBug("sgd-sign", "sign", "sgd",
                 "the gradient added, w = w + eta g: check w = w - eta g",
                 SGDSign),
)
# fmt: on

OPTIMIZER_BUGS: dict[str, OptimizerBug] = {bug.name: bug for bug in _BUGS}
