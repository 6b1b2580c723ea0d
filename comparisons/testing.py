"""Assertions on trajectories, in the manner of ``numpy.testing``.

Every assert takes ``(actual, desired, ...)``: the manual side is ``actual``,
Keras is ``desired``. A failure says what differed, where and by how much.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparisons.tolerances import Tolerance
from comparisons.ulp import ulp_frame

__all__ = ["assert_trajectory_matches"]


MAX_LISTED = 24


def _mismatch_message(
    actual: pd.DataFrame, desired: pd.DataFrame, ulps: np.ndarray, bound: np.ndarray, header: str, row: int, dtype: str
) -> str:
    as_dtype = np.dtype(dtype).type  # values printed as the working dtype's shortest round-trip form
    names = [c for c in actual.columns if c != "epoch"]
    bad = np.flatnonzero(ulps[row] > bound)
    a = actual[names].to_numpy(dtype=np.float64)[row]
    d = desired[names].to_numpy(dtype=np.float64)[row]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(a - d) / np.abs(d)
    lines = [
        f"{header}, epoch {int(actual['epoch'].iloc[row])}: "
        f"{len(bad)} of {len(names)} values differ by more than the tolerance",
        f"  {'value':<8} {'actual (manual)':>24} {'desired (keras)':>24} {'abs diff':>10} {'ULP':>8} {'allowed':>7}",
    ]
    for i in bad[:MAX_LISTED]:
        lines.append(
            f"  {names[i]:<8} {as_dtype(a[i])!s:>24} {as_dtype(d[i])!s:>24} "
            f"{abs(a[i] - d[i]):>10.3g} {ulps[row, i]:>8.3g} {bound[i]:>7g}"
        )
    if len(bad) > MAX_LISTED:  # a wide network: the first ones in document order
        lines.append(f"  ... and {len(bad) - MAX_LISTED} more")
    lines.append(f"  Max absolute difference: {np.max(np.abs(a - d)[bad]):.6g}")
    lines.append(f"  Max relative difference: {np.max(rel[bad]):.6g}")
    return "\n".join(lines)


def assert_trajectory_matches(
    actual: pd.DataFrame,
    desired: pd.DataFrame,
    *,
    dtype: str,
    tolerance: Tolerance,
    epochs: slice | int | None = None,
    header: str = "Trajectories differ",
) -> None:
    """Raise AssertionError at the first epoch (of ``epochs``, 1-based) where a value is out of tolerance.

    Weights are held to ``tolerance.weights`` ULPs and the loss to ``tolerance.loss``,
    both measured with ``tolerance.floor`` (see comparisons.ulp).
    """
    if list(actual.columns) != list(desired.columns) or len(actual) != len(desired):
        raise AssertionError(
            f"{header}: trajectories have different shapes: actual {len(actual)} epochs of {list(actual.columns)}, "
            f"desired {len(desired)} epochs of {list(desired.columns)}"
        )
    if isinstance(epochs, int):
        epochs = slice(epochs - 1, epochs)
    window = slice(None) if epochs is None else epochs
    actual, desired = actual.iloc[window], desired.iloc[window]
    names = [c for c in actual.columns if c != "epoch"]
    ulps = ulp_frame(actual, desired, dtype, tolerance.floor)[names].to_numpy()
    bound = tolerance.bounds(names)
    over = np.flatnonzero((ulps > bound).any(axis=1))
    if len(over):
        raise AssertionError(_mismatch_message(actual, desired, ulps, bound, header, int(over[0]), dtype))
