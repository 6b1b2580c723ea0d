"""The equivalent Keras model, trained by Keras's own code: the side we trust.

Never imports manual/ or comparisons/. Importing the package imports no
TensorFlow: ``reference.numerics`` (the configuration) and
``reference.runner`` (where a job runs) are light, and the Keras names below
load reference/keras_model.py (which configures TensorFlow before importing it)
and reference/training.py when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers
    from reference.keras_model import build_model, floatx, initial_weights
    from reference.training import KerasTrajectory, gradients_at, train_fast, train_plain, train_steps

__all__ = [
    "KerasTrajectory",
    "build_model",
    "floatx",
    "gradients_at",
    "initial_weights",
    "train_fast",
    "train_plain",
    "train_steps",
]


_WHERE = dict.fromkeys(("build_model", "floatx", "initial_weights"), "keras_model") | dict.fromkeys(
    ("KerasTrajectory", "gradients_at", "train_fast", "train_plain", "train_steps"), "training"
)


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'reference' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reference.{_WHERE[name]}"), name)
