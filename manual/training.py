"""The document's algorithm: for each epoch, for each row, predict, take the loss, update.

The epoch loss is the mean of the per-row losses, each computed before its
update, accumulated as Keras's ``Mean`` metric does (a running total in the
working dtype, divided by the count at the end), so the two agree to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manual.network import Params, Step, copy_params

__all__ = ["Trajectory", "train"]


@dataclass(frozen=True)
class Trajectory:
    """``params[e]`` and ``losses[e]`` after epoch e + 1."""

    params: list[Params]
    losses: np.ndarray


def train(step: Step, params: Params, X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float) -> Trajectory:
    """Run ``step`` over the rows ``order[e]`` (indices into X, y) for every epoch e.

    The step gets copies: a step that mutates its input cannot alter the record.
    """
    dtype = X.dtype.type
    eta = dtype(lr)
    current = copy_params(params)
    history, losses = [], []
    for rows in order:
        total = dtype(0)
        for i in rows:
            current, loss = step(copy_params(current), X[i].copy(), y[i], eta)
            total = total + dtype(loss)
        history.append(copy_params(current))
        losses.append(total / dtype(len(rows)))
    return Trajectory(params=history, losses=np.array(losses, dtype=X.dtype))
