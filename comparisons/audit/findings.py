"""What the diagnosis reads and what it says: the teacher-forced steps, and each finding, by kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KINDS", "Finding", "ForcedSteps"]


# the fixed vocabulary, in the order findings of the same step are listed: causes before the
# tensors' own slips (the document's networks use the kinds without a tensor's batch or shape)
KINDS = (
    "forward",
    "loss-after-update",
    "loss-gradient",
    "activation-derivative",
    "not-updated",
    "from-other-parameter",
    "other-gradient",
    "stale-weights",
    "batch-reduction",
    "first-row-only",
    "transposed",
    "sign",
    "scaled",
    "wrong",
)


@dataclass(frozen=True)
class ForcedSteps:
    """One init's teacher-forced pass. Row k of each (K, P) array is in document order
    (``parameter_names``); step k starts from ``states[k]`` with the batch ``batch_x[k]``, ``batch_y[k]``,
    whose first row is ``X[k]``, ``y[k]``."""

    init: str
    epochs: np.ndarray  # (K,) 1-based
    steps: np.ndarray  # (K,) 1-based, within the epoch
    states: np.ndarray  # (K, P) Keras's parameters before step k
    X: np.ndarray  # (K, inputs)
    y: np.ndarray  # (K,)
    true_grads: np.ndarray  # (K, P) dL/dparameter at states[k], by tf.GradientTape
    keras_loss: np.ndarray  # (K,) Keras's loss at states[k] on the row
    user_new: np.ndarray  # (K, P) what the user's step returned from states[k]
    user_loss: np.ndarray  # (K,)
    batch_x: list[np.ndarray]  # step k's whole batch (B_k, inputs), the last one of an epoch partial
    batch_y: list[np.ndarray]  # (B_k, outputs), or (B_k,) class indices


@dataclass(frozen=True)
class Finding:
    kind: str
    parameters: list[str]  # document names
    indices: list[dict[str, Any]]  # {"array": "W1", "index": [0, 1]} for each parameter
    other: str | None  # the other parameter (other-gradient, from-other-parameter)
    updated: bool | None  # from-other-parameter: that one's value after (True) or before (False) its update
    factor: float | None  # scaled, sign
    layer: int | None  # stale-weights: the layer whose updated weights were used
    first: dict[str, Any]  # {"init", "epoch", "step"}
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "parameters": self.parameters,
            "indices": self.indices,
            "other": self.other,
            "updated": self.updated,
            "factor": self.factor,
            "layer": self.layer,
            "first": self.first,
            "message": self.message,
        }
