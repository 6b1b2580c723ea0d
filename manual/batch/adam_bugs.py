"""Adam as learners write it, and the mistakes they make in it: each one line of LearnerAdam changed.

LearnerAdam is TextbookAdam (manual/batch/conventions.py: deeplearning.ai's assignment, Kingma
and Ba's Algorithm 1) with one method per formula, so that each mistake replaces the line it gets
wrong. The catalogue that names them is manual/batch/optimizer_bugs.py.
"""

from __future__ import annotations

import numpy as np

from manual.batch.conventions import TextbookAdam

__all__ = [
    "AdamStateNotCarried",
    "BiasCorrectionMissing",
    "BiasCorrectionWithoutPower",
    "EpsilonAddedToStep",
    "EpsilonInsideSqrt",
    "EpsilonOutsideFraction",
    "FirstMomentWithoutGradient",
    "LearnerAdam",
    "LearningRateTwice",
    "SecondMomentOfG",
    "SecondMomentUncorrected",
    "SecondMomentWithBeta1",
    "SquareRootMissing",
    "StepWithGradient",
    "TIsTheLayer",
    "TOffByOne",
]


class LearnerAdam(TextbookAdam):
    """``TextbookAdam`` one formula a method, as the learner writes it, so that each mistake
    below replaces the one line it gets wrong; it computes what ``TextbookAdam`` does, bit for bit."""

    def t(self) -> int:
        return self.iterations + 1  # t = 1 on the first step

    def first_moment(self, m: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.c(self.config.beta_1) * m + self.c(1 - self.config.beta_1) * g  # m = beta_1 m + (1 - beta_1) g

    def second_moment(self, v: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.c(self.config.beta_2) * v + self.c(1 - self.config.beta_2) * np.square(g)  # v = beta_2 v + ...

    def carry(self, key: str, m: np.ndarray, v: np.ndarray) -> None:
        self.state["m"][key], self.state["v"][key] = m, v  # m and v kept for the next step

    def m_hat(self, m: np.ndarray, t: int) -> np.ndarray:
        return m / (1 - self.c(self.config.beta_1) ** t)  # m_hat = m / (1 - beta_1^t)

    def v_hat(self, v: np.ndarray, t: int) -> np.ndarray:
        return v / (1 - self.c(self.config.beta_2) ** t)  # v_hat = v / (1 - beta_2^t)

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * m_hat / (np.sqrt(v_hat) + eps)  # eta m_hat / (sqrt(v_hat) + eps)

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        t = self.t()
        m, v = self.slot("m", key, w), self.slot("v", key, w)
        m, v = self.first_moment(m, g), self.second_moment(v, g)
        self.carry(key, m, v)
        with np.errstate(invalid="ignore", divide="ignore"):  # the learner's 0 / 0 and sqrt(-x): NaN, as theirs
            return w - self.step(self.m_hat(m, t), self.v_hat(v, t), g)  # w = w - step


# Adam: where epsilon goes


class EpsilonInsideSqrt(LearnerAdam):
    """epsilon under the square root: sqrt(v_hat + eps), where Adam adds it to sqrt(v_hat)."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * m_hat / np.sqrt(v_hat + eps)  # eta m_hat / sqrt(v_hat + eps)


class EpsilonOutsideFraction(LearnerAdam):
    """epsilon added after the division, not to its denominator: 0 / 0 where g has been 0."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * m_hat / np.sqrt(v_hat) + eps  # eta m_hat / sqrt(v_hat) + eps


class EpsilonAddedToStep(LearnerAdam):
    """epsilon added to the ratio, inside the learning rate's bracket: 0 / 0 where g has been 0."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * (m_hat / np.sqrt(v_hat) + eps)  # eta (m_hat / sqrt(v_hat) + eps)


# Adam: the bias corrections


class BiasCorrectionMissing(LearnerAdam):
    """m and v used as they are, not divided by 1 - beta^t: the first steps sqrt(1 - beta_2) / (1 - beta_1)
    (0.32) times Adam's."""

    def m_hat(self, m: np.ndarray, t: int) -> np.ndarray:
        return m  # m_hat = m

    def v_hat(self, v: np.ndarray, t: int) -> np.ndarray:
        return v  # v_hat = v


class BiasCorrectionWithoutPower(LearnerAdam):
    """1 - beta for 1 - beta^t: right on the first step, too large a correction from the second.
    A t never incremented (t = 1 every step) computes the same."""

    def m_hat(self, m: np.ndarray, t: int) -> np.ndarray:
        return m / (1 - self.c(self.config.beta_1))  # m_hat = m / (1 - beta_1)

    def v_hat(self, v: np.ndarray, t: int) -> np.ndarray:
        return v / (1 - self.c(self.config.beta_2))  # v_hat = v / (1 - beta_2)


class TIsTheLayer(LearnerAdam):
    """the layer's number where t belongs (deeplearning.ai's loop variable l): 1 - beta^l in the bias
    corrections, right in layer 1 at the first step alone."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.layer = int("".join(c for c in key if c.isdigit()) or 1)  # W2, b2: layer 2
        return super().update(key, w, g)

    def t(self) -> int:
        return self.layer  # t = l


class TOffByOne(LearnerAdam):
    """t one ahead (incremented before the step and again after): t = 2 on the first step."""

    def t(self) -> int:
        return self.iterations + 2  # t = 2 on the first step


# Adam: the second moment


class SecondMomentUncorrected(LearnerAdam):
    """m corrected, v not: the step divided by sqrt(v), about sqrt(1 - beta_2^t) times sqrt(v_hat)."""

    def v_hat(self, v: np.ndarray, t: int) -> np.ndarray:
        return v  # v_hat = v


class SecondMomentWithBeta1(LearnerAdam):
    """v averaged with beta_1, the first moment's line copied: v = beta_1 v + (1 - beta_1) g^2."""

    def second_moment(self, v: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.c(self.config.beta_1) * v + self.c(1 - self.config.beta_1) * np.square(g)  # beta_1, not beta_2


class SecondMomentOfG(LearnerAdam):
    """v an average of g, not of g^2: its square root NaN where that average is negative."""

    def second_moment(self, v: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.c(self.config.beta_2) * v + self.c(1 - self.config.beta_2) * g  # g, not g^2


class SquareRootMissing(LearnerAdam):
    """the step divided by v_hat, a square, where Adam divides by its square root."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * m_hat / (v_hat + eps)  # eta m_hat / (v_hat + eps)


# Adam: the first moment


class FirstMomentWithoutGradient(LearnerAdam):
    """m = beta_1 m, the (1 - beta_1) g term left off: m stays 0 and no weight ever moves."""

    def first_moment(self, m: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.c(self.config.beta_1) * m  # m = beta_1 m


class StepWithGradient(LearnerAdam):
    """the step takes g where m_hat belongs: right on the first step, where m_hat = g, not from the second."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * g / (np.sqrt(v_hat) + eps)  # eta g / (sqrt(v_hat) + eps)


# Adam: state, scale


class AdamStateNotCarried(LearnerAdam):
    """m and v never kept (initialized inside the loop, or not returned): every step starts them from 0."""

    def carry(self, key: str, m: np.ndarray, v: np.ndarray) -> None:
        pass  # m and v dropped: the next step's are 0 again


class LearningRateTwice(LearnerAdam):
    """eta applied twice (folded into m_hat, then the step times eta again): every step eta times Adam's."""

    def step(self, m_hat: np.ndarray, v_hat: np.ndarray, g: np.ndarray) -> np.ndarray:
        lr, eps = self.c(self.config.learning_rate), self.c(self.config.epsilon)
        return lr * lr * m_hat / (np.sqrt(v_hat) + eps)  # eta eta m_hat / (sqrt(v_hat) + eps)
