"""Hand-written backpropagation in pure numpy: the side being checked.

This package never imports tensorflow or keras (a test holds it to that).
"""

from manual.formulas import classification_step, regression_step
from manual.layerwise import layerwise_step
from manual.network import (
    Architecture,
    Params,
    Step,
    copy_params,
    document_name,
    from_document_order,
    from_keras_weights,
    in_document_order,
    parameter_names,
    to_keras_weights,
)
from manual.training import Trajectory, train

__all__ = [
    "Architecture",
    "Params",
    "Step",
    "Trajectory",
    "classification_step",
    "copy_params",
    "document_name",
    "from_document_order",
    "from_keras_weights",
    "in_document_order",
    "layerwise_step",
    "parameter_names",
    "regression_step",
    "to_keras_weights",
    "train",
]
