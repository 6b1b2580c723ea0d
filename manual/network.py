"""The network's shape, its parameters, and the document's names for them.

Parameters travel as a dict in Keras's layout, so the same arrays can be handed
to ``keras.Model.set_weights`` unchanged:

- ``W1[i, j]`` is the weight from input i to hidden neuron j: the document's w^1_{(i+1)(j+1)};
- ``b1[j]`` is b_{1(j+1)}; ``W2[j, 0]`` is w^2_{(j+1)1}; ``b2[0]`` is b_21.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Architecture",
    "Params",
    "Step",
    "Trajectory",
    "Value",
    "copy_params",
    "document_name",
    "from_document_order",
    "from_keras_weights",
    "in_document_order",
    "parameter_names",
    "tensor_slices",
    "to_keras_weights",
]

Params = dict[str, np.ndarray]
# An activation, a loss or a gradient: an np.ndarray in matrix form, a numpy scalar
# in the document's formulas. The same code serves both, so the type stays open.
Value = Any
# step(params, x, y, lr) -> (params after one SGD update on this row, this row's loss
# computed from the prediction made before the update)
Step = Callable[[Params, np.ndarray, np.floating, np.floating], tuple[Params, np.floating]]


@dataclass(frozen=True)
class Trajectory:
    """``params[e]`` and ``losses[e]`` after epoch e + 1: what either stack's training returns."""

    params: list[Params]
    losses: np.ndarray


@dataclass(frozen=True)
class Architecture:
    """Layer sizes from the input to the output, one activation per non-input layer, a loss.

    Activation and loss names are Keras's, so reference/ can build the same model.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str

    def __post_init__(self) -> None:
        if len(self.activations) != len(self.sizes) - 1:
            raise ValueError("one activation per layer after the input")

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    def shapes(self) -> Iterator[tuple[str, tuple[int, ...]]]:
        for k in range(1, self.layers + 1):
            yield f"W{k}", (self.sizes[k - 1], self.sizes[k])
            yield f"b{k}", (self.sizes[k],)


def document_name(key: str, index: tuple[int, ...]) -> str:
    """The document's name of one scalar parameter: ('W1', (1, 0)) -> 'w^1_21'. Where an
    index or layer runs past 9 the digits would run together (w^1_111), so they are
    separated: ('W2', (0, 10)) -> 'w^2_{1,11}', ('b2', (10,)) -> 'b_{2,11}'."""
    layer = key[1:]
    if key.startswith("W"):
        i, j = index
        return f"w^{layer}_{i + 1}{j + 1}" if max(i, j) < 9 else f"w^{layer}_{{{i + 1},{j + 1}}}"
    (j,) = index
    return f"b_{layer}{j + 1}" if j < 9 and len(layer) == 1 else f"b_{{{layer},{j + 1}}}"


def parameter_names(arch: Architecture) -> list[tuple[str, tuple[int, ...], str]]:
    """(key, index, document name) for every scalar, in Keras's weight order."""
    return [(key, index, document_name(key, index)) for key, shape in arch.shapes() for index in np.ndindex(*shape)]


def copy_params(params: Params) -> Params:
    return {key: np.array(value, copy=True) for key, value in params.items()}


def in_document_order(arch: Architecture, params: Params) -> list[np.floating]:
    """Every scalar parameter, in the order of ``parameter_names``."""
    return [params[key][index] for key, index, _ in parameter_names(arch)]


def tensor_slices(arch: Architecture) -> dict[str, slice]:
    """Each array's run of scalars in document order: ``parameter_names`` ravels every array in turn."""
    out, start = {}, 0
    for key, shape in arch.shapes():
        size = int(np.prod(shape))
        out[key] = slice(start, start + size)
        start += size
    return out


def from_document_order(arch: Architecture, values: Any) -> Params:
    """The inverse of ``in_document_order``: a sequence of every scalar back into arrays (new ones)."""
    flat = np.asarray(values)
    if flat.shape != (sum(int(np.prod(shape)) for _, shape in arch.shapes()),):
        raise ValueError(f"{flat.shape[0] if flat.ndim else 0} values for {len(parameter_names(arch))} parameters")
    slices = tensor_slices(arch)
    return {key: flat[slices[key]].reshape(shape).copy() for key, shape in arch.shapes()}


def to_keras_weights(arch: Architecture, params: Params) -> list[np.ndarray]:
    return [params[key] for key, _ in arch.shapes()]


def from_keras_weights(arch: Architecture, weights: list[np.ndarray]) -> Params:
    return {key: np.array(w, copy=True) for (key, _), w in zip(arch.shapes(), weights, strict=True)}
