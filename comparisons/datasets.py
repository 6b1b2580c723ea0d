"""Datasets as pandas DataFrames with named columns, optionally read from CSV.

A CSV is refused, with one line naming file, row and column, when a column is
missing, a cell is not a number, a value is NaN or infinite, or there are no rows.
Row numbers are the file's own line numbers (the header is line 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.errors import InputError
from comparisons.problems import Problem

__all__ = ["read_csv", "read_table", "to_arrays"]


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
