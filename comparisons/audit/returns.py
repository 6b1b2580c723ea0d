"""What a learner's step returns, checked against its contract: a user's error is one line, never a traceback."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from manual.network import Params

__all__ = ["UserCodeError", "as_shape", "checked_loss", "checked_params"]


class UserCodeError(Exception):
    """What is wrong with the user's code, in one line."""


def as_shape(key: str, array: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """The array in Keras's layout. A bias may come as a column (n, 1) or a row (1, n), and a
    one-element bias as a scalar: the numbers can only mean one thing. Weights must have
    their exact shape: a transposed W1 has the same shape, so a layout cannot be guessed."""
    if array.shape == shape:
        return array
    if key.startswith("b") and array.size == shape[0] and sum(n != 1 for n in array.shape) <= 1:
        return array.reshape(shape)
    expected = f"{shape}, or {(shape[0], 1)} or {(1, shape[0])}" if key.startswith("b") else f"{shape}"
    raise UserCodeError(f"returned {key} has shape {array.shape}, must be {expected} {where}")


def checked_params(value: object, shapes: dict[str, tuple[int, ...]], dtype: str, where: str) -> Params:
    if not isinstance(value, Mapping):
        raise UserCodeError(f"returned params is a {type(value).__name__}, not a dict {where}")
    missing = [k for k in shapes if k not in value]
    if missing:
        raise UserCodeError(f"returned params lack {', '.join(map(repr, missing))} {where}")
    extra = sorted(str(k) for k in value if k not in shapes)
    if extra:
        raise UserCodeError(f"returned params have extra keys {', '.join(map(repr, extra))} {where}")
    params: Params = {}
    for key, shape in shapes.items():
        try:
            array = np.asarray(value[key])
        except Exception:
            raise UserCodeError(f"returned {key} is not an array {where}") from None
        if array.dtype.kind not in "fiu":
            raise UserCodeError(f"returned {key} holds {array.dtype} values, not numbers {where}")
        params[key] = as_shape(key, array, shape, where).astype(dtype)
    return params


def checked_loss(value: object, dtype: str, where: str) -> np.floating:
    try:
        array = np.asarray(value)
    except Exception:
        array = np.asarray(None)
    if array.dtype.kind not in "fiu" or array.size != 1:
        raise UserCodeError(f"returned loss {value!r} is not a number {where}")
    return np.dtype(dtype).type(array.reshape(-1)[0])
