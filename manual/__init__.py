"""Hand-written backpropagation in pure numpy: the side being checked.

Two stacks share network.py (the shapes and the document's names) and activations.py:

- row/: the document's exact per-row algorithm, SGD on one row at a time: the
  per-parameter formulas, the layer-wise step, and the notebooks' known bugs;
- batch/: any dense network in mini-batches with Keras's losses and optimizers,
  and its known-bad variants.

This package never imports tensorflow or keras (a test holds it to that).
"""

from manual.network import (
    Architecture,
    Params,
    Step,
    Trajectory,
    copy_params,
    document_name,
    from_document_order,
    from_keras_weights,
    in_document_order,
    parameter_names,
    to_keras_weights,
)
from manual.row.formulas import classification_step, regression_step
from manual.row.layerwise import layerwise_step
from manual.row.training import train

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
