"""The equivalent Keras model, trained by Keras's own code: the side we trust.

Never imports manual/ or comparisons/.
"""

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
