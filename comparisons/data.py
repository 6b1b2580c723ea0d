"""A run's rows: the document's, a CSV's, or seeded synthetic rows shaped for the network.

Every run trains on (X, Y) in its dtype, Y of shape (rows, outputs), or (rows,)
of class labels for sparse categorical cross-entropy. A CSV is refused, with one
line naming file, row and column, when a column is missing, a cell is not a
number, a value is NaN or infinite, or there are no rows.
Row numbers are the file's own line numbers (the header is line 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.errors import InputError
from comparisons.problems import Problem
from comparisons.spec import Spec

__all__ = ["read_csv", "read_network_csv", "read_table", "spec_arrays", "synthetic_data", "to_arrays"]

_DATA_STREAM = 2  # after spec.py's initial weights (0) and row order (1)
_CLASSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def read_table(path: Path, required: list[str], needs: str = "", every_column: bool = False) -> pd.DataFrame:
    """The ``required`` columns (``every_column``: all of them) as float64, each cell
    checked; ``needs`` says who needs them, in the message for a missing one."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file, expected a header and rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV file ({str(error).strip().splitlines()[-1]})") from None
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}{needs}")
    if raw.empty:
        raise InputError(f"{path}: no data rows")
    columns = list(raw.columns) if every_column else required
    raw = raw[columns]
    for r, record in enumerate(raw.itertuples(index=False), start=2):
        for column, cell in zip(columns, record, strict=True):
            try:
                value = float(cell)
            except ValueError:
                raise InputError(f"{path}: row {r}, column {column!r}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise InputError(f"{path}: row {r}, column {column!r}: {cell!r} is not a finite number")
    return raw.astype("float64").reset_index(drop=True)


def read_csv(path: str | Path, problem: Problem) -> pd.DataFrame:
    columns = [*problem.features, problem.target]
    return read_table(Path(path), columns, f" (the {problem.name} problem needs {', '.join(columns)})")


def to_arrays(data: pd.DataFrame, problem: Problem, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) in the working dtype; the features in the problem's column order."""
    with np.errstate(over="ignore"):
        X = data[list(problem.features)].to_numpy(dtype=dtype)
        y = data[problem.target].to_numpy(dtype=dtype)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError(f"the data has values too large for {dtype}")
    return X, y


def spec_arrays(spec: Spec, data: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) in the spec's dtype: ``data`` where given (float64, or already the spec's dtype), else
    the document's rows for a preset and seeded synthetic rows for a network of one's own."""
    if data is not None and not isinstance(data, tuple):  # an earlier API took the document's DataFrame
        raise InputError("data must be (X, Y) arrays: comparisons.to_arrays makes them from a DataFrame")
    if data is None:
        if not spec.is_document:
            return synthetic_data(spec)
        X, y = to_arrays(spec.definition.data(), spec.definition, "float64")
        data = (X, y[:, None])
    with np.errstate(over="ignore"):
        X, Y = data[0].astype(spec.dtype), data[1].astype(spec.dtype)
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise InputError(f"the data has values too large for {spec.dtype}")
    return X, Y


def synthetic_data(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """Seeded rows shaped for the network and loss: features ~ N(0, 1); targets real
    (squared or absolute error), 0/1 (binary), one-hot or integer classes."""
    rng = np.random.default_rng((spec.seed, _DATA_STREAM))
    n_in, n_out = spec.layers[0], spec.layers[-1]
    X = rng.normal(size=(spec.rows, n_in))
    if spec.loss == "binary_crossentropy":
        Y = rng.integers(0, 2, size=(spec.rows, n_out)).astype(float)
    elif spec.loss in _CLASSES:
        labels = rng.integers(0, n_out, size=spec.rows)
        Y = np.eye(n_out)[labels] if spec.loss == "categorical_crossentropy" else labels.astype(float)
    else:
        Y = rng.normal(size=(spec.rows, n_out))
    return X.astype(spec.dtype), Y.astype(spec.dtype)


def read_network_csv(
    path: str | Path, targets: list[str], features: list[str] | None, spec: Spec
) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) from a CSV: ``targets`` columns, features the others (or ``features``); each
    checked against the network's widths and the loss's kind of target, in one line."""
    table = read_table(Path(path), [*targets, *(features or [])], every_column=features is None)
    features = features or [c for c in table.columns if c not in targets]
    if len(features) != spec.layers[0]:
        raise InputError(
            f"{path}: {len(features)} feature columns ({', '.join(features)}) for an input of {spec.layers[0]}"
        )
    width = 1 if spec.loss == "sparse_categorical_crossentropy" else spec.layers[-1]
    if len(targets) != width:
        raise InputError(
            f"{path}: {len(targets)} target columns for {spec.loss} on an output of {spec.layers[-1]} (needs {width})"
        )
    X, Y = table[features].to_numpy(dtype="float64"), table[targets].to_numpy(dtype="float64")
    if spec.loss == "sparse_categorical_crossentropy":
        Y = Y[:, 0]
        bad = ~np.isin(Y, np.arange(spec.layers[-1]))
        if bad.any():
            raise InputError(
                f"{path}: row {int(np.argmax(bad)) + 2}: class {Y[bad][0]:g} is not in 0..{spec.layers[-1] - 1}"
            )
    elif spec.loss in ("binary_crossentropy", "categorical_crossentropy"):
        outside = ~((Y >= 0) & (Y <= 1)).all(axis=1)
        if outside.any():
            raise InputError(f"{path}: row {int(np.argmax(outside)) + 2}: {spec.loss} targets must be in [0, 1]")
    with np.errstate(over="ignore"):
        X, Y = X.astype(spec.dtype), Y.astype(spec.dtype)
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise InputError(f"{path}: values too large for {spec.dtype}")
    return X, Y
