"""The three ways learners store a layer, and the conversions to and from Keras's.

- ``keras``: W (n_in, n_out), b (n_out,); a step's x a row (n_in,), the tutorial
  contract's X a row matrix (1, n_in);
- ``columns``, the tutorial's: W (n_in, n_out), b (n_out, 1), x a column (n_in, 1);
- ``out-in``, deeplearning.ai's and PyTorch's ``nn.Linear``: W (n_out, n_in),
  b (n_out, 1), x a column (n_in, 1), and ``W @ a``.

Numpy only: the audit's child converts what it hands the learner's code and what it
gets back.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from comparisons.audit.returns import UserCodeError
from manual.network import Params

__all__ = ["DEFAULT_LAYOUT", "LAYOUTS", "W_SHAPES", "from_layout", "input_in", "to_layout"]

LAYOUTS = ("columns", "out-in", "keras")
W_SHAPES = {"columns": "(n_in, n_out)", "out-in": "(n_out, n_in)", "keras": "(n_in, n_out)"}  # as messages say
# where more than one layout runs a learner's first step: the contract's own
DEFAULT_LAYOUT = {"tutorial": "columns", "step": "keras"}


def to_layout(layout: str, params: Params) -> Params:
    """Keras's parameters as the learner stores them (copies)."""
    converted: Params = {}
    for key, value in params.items():
        if key.startswith("b"):
            converted[key] = value.copy() if layout == "keras" else value.reshape(-1, 1).copy()
        else:
            converted[key] = value.T.copy() if layout == "out-in" else value.copy()
    return converted


def from_layout(layout: str, value: object, shapes: Mapping[str, tuple[int, ...]]) -> object:
    """What the learner's code returned, its weights back in Keras's orientation: an out-in W
    must have the shape (n_out, n_in). Anything else is passed on for the contract's checks."""
    if layout != "out-in" or not isinstance(value, Mapping):
        return value
    back = dict(value)
    for key, shape in shapes.items():
        if key.startswith("W") and key in back:
            try:
                array = np.asarray(back[key])
            except Exception:
                continue
            if array.shape != shape[::-1]:
                raise UserCodeError(f"returned {key} has shape {array.shape}, must be {shape[::-1]} (--layout out-in)")
            back[key] = array.T
    return back


def input_in(layout: str, x: np.ndarray, contract: str) -> np.ndarray:
    """One row's input as the learner's code takes it."""
    if layout != "keras":
        return x.reshape(-1, 1)
    return x.reshape(1, -1) if contract == "tutorial" else x
