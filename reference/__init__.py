"""The equivalent Keras model, trained by Keras's own code: the side we trust.

Never imports manual/ or comparisons/. Importing the package imports no
TensorFlow: ``reference.numerics`` (the configuration) and
``reference.runner`` (where a job runs) are light, and the Keras names below
load reference/keras_model.py, which configures TensorFlow before importing it,
when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers
    from reference.keras_model import (
        KerasTrajectory,
        build_model,
        floatx,
        gradients_at,
        initial_weights,
        train_fast,
        train_plain,
        train_steps,
    )

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


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'reference' has no attribute {name!r}")
    return getattr(importlib.import_module("reference.keras_model"), name)
