"""The document's algorithm: for each epoch, for each row, predict, take the loss, update.

The epoch loss is the mean of the per-row losses, each computed before its
update, accumulated as Keras's ``Mean`` metric does (a running total in the
working dtype, divided by the count at the end), so the two agree to the bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from manual.network import Params, Step, Trajectory, copy_params

__all__ = ["StepRecord", "epoch_loss", "steps", "train"]


@dataclass(frozen=True)
class StepRecord:
    """After one update: 1-based epoch and step within it, the row used, the parameters, the loss."""

    epoch: int
    step: int
    row: int
    params: Params
    loss: np.floating


def steps(
    step: Step, params: Params, X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float
) -> Iterator[StepRecord]:
    """Run ``step`` over the rows ``order[e]`` (indices into X, y) for every epoch e, one record per update.

    The step gets copies: a step that mutates its input cannot alter the record.
    """
    dtype = X.dtype.type
    eta = dtype(lr)
    current = copy_params(params)
    for epoch, rows in enumerate(order, start=1):
        for position, i in enumerate(rows, start=1):
            current, loss = step(copy_params(current), X[i].copy(), y[i], eta)
            current = copy_params(current)
            yield StepRecord(epoch, position, int(i), current, loss)


def epoch_loss(losses: np.ndarray) -> np.floating:
    """Keras's ``Mean``: total += loss row by row in the working dtype, then total / count."""
    dtype = losses.dtype.type
    total = dtype(0)
    for loss in losses:
        total = total + loss
    return total / dtype(len(losses))


def train(step: Step, params: Params, X: np.ndarray, y: np.ndarray, order: np.ndarray, lr: float) -> Trajectory:
    """Per-epoch parameters and epoch losses of ``steps``."""
    history, losses, row_losses = [], [], []
    for record in steps(step, params, X, y, order, lr):
        row_losses.append(record.loss)
        if record.step == order.shape[1]:
            history.append(record.params)
            losses.append(epoch_loss(np.array(row_losses, dtype=X.dtype)))
            row_losses = []
    return Trajectory(params=history, losses=np.array(losses, dtype=X.dtype))
