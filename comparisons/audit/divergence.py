"""Where the user's trajectory first parts from Keras's, and the teacher-forced steps the diagnosis judges."""

from __future__ import annotations

from typing import Any

import numpy as np

from comparisons.audit.findings import ForcedSteps
from comparisons.audit.keras_steps import KerasSide
from comparisons.audit.model import Divergence
from comparisons.problems import PROBLEMS
from manual.batch.training import batch_rows
from manual.network import (
    Architecture,
    parameter_names,
)

__all__ = ["as_table", "first_divergence", "forced_steps"]


def as_table(params: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """(steps, 1 + P): the loss, then every parameter in document order."""
    return np.column_stack([losses, params])


def first_divergence(
    init: str,
    user: np.ndarray,
    keras: np.ndarray,
    distance: np.ndarray,
    over: np.ndarray,
    context: dict[str, Any],
    problem: str,
    arch: Architecture,
) -> Divergence | None:
    """The first step where ``over`` (steps x values) holds anything, with the values it flags."""
    steps_over = np.flatnonzero(over.any(axis=1))
    if not len(steps_over):
        return None
    k = int(steps_over[0])
    batches = batch_rows(context["order"], context["batch"])
    per_epoch = len(batches) // len(context["order"])
    row = int(batches[k][0])  # a batch's first row
    X, y = context["X"], context["y"]
    if problem in PROBLEMS:
        columns = [*PROBLEMS[problem].features, PROBLEMS[problem].target]
    else:
        targets = [f"y{j + 1}" for j in range(y.shape[1])] if y.ndim > 1 else ["y"]
        columns = [*(f"x{i + 1}" for i in range(X.shape[1])), *targets]
    values = [*X[row], *np.atleast_1d(y[row])]
    names = ["loss"] + [name for _, _, name in parameter_names(arch)]
    where = {"loss": (None, None)} | {name: (key, list(i)) for key, i, name in parameter_names(arch)}
    parameters = [
        {
            "name": name,
            "array": where[name][0],
            "index": where[name][1],
            "user": float(user[k, j]),
            "keras": float(keras[k, j]),
            "distance": float(distance[k, j]),
        }
        for j, name in enumerate(names)
        if over[k, j]
    ]
    return Divergence(
        init,
        k // per_epoch + 1,
        k % per_epoch + 1,
        row,
        dict(zip(columns, map(float, values), strict=True)),
        parameters,
        [int(i) for i in batches[k]] if len(batches[k]) > 1 else [],
    )


def forced_steps(init: str, context: dict[str, Any], side: KerasSide, forced: dict[str, np.ndarray]) -> ForcedSteps:
    """Step k's X and y: its batch's first row (the whole batch at batch size 1); and its whole batch."""
    batches = batch_rows(context["order"], context["batch"])
    K, per_epoch = len(batches), len(batches) // len(context["order"])
    rows = np.array([rows[0] for rows in batches])
    return ForcedSteps(
        init=init,
        epochs=np.arange(K) // per_epoch + 1,
        steps=np.arange(K) % per_epoch + 1,
        states=side.before,
        X=context["X"][rows],
        y=context["y"][rows],
        true_grads=side.grads,
        keras_loss=side.losses,
        user_new=forced["params"],
        user_loss=forced["losses"],
        batch_x=[context["X"][rows] for rows in batches],
        batch_y=[context["y"][rows] for rows in batches],
    )
