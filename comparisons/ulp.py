"""Distances in ULPs (units in the last place) of the working dtype.

``ulp_distance(actual, desired, dtype, floor)`` is ``|actual - desired|`` divided
by the spacing of ``dtype`` at ``max(|desired|, floor)``. For values of at
least ``floor`` in magnitude it is the number of representable numbers between
the two (0 means bit-identical). The floor keeps a quantity that passes close to
zero, such as a bias, from being judged relative to its own tiny size: near zero,
the rounding errors it carries are those of the larger terms it was computed
from, so its distance is measured in ULPs of ``floor`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["relative_distance", "ulp_distance", "ulp_frame"]


def _distance(actual: npt.ArrayLike, desired: npt.ArrayLike, unit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """|actual - desired| / unit(desired): 0 where identical (NaN and infinities included), inf where one is NaN."""
    a = np.asarray(actual, dtype=np.float64)
    d = np.asarray(desired, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        distance = np.abs(a - d) / unit(d)
    same = (a == d) | (np.isnan(a) & np.isnan(d))
    return np.where(same, 0.0, np.where(np.isnan(distance), np.inf, distance))


def ulp_distance(actual: npt.ArrayLike, desired: npt.ArrayLike, dtype: str, floor: float) -> np.ndarray:
    return _distance(
        actual, desired, lambda d: np.spacing(np.maximum(np.abs(d), floor).astype(dtype)).astype(np.float64)
    )


def relative_distance(actual: npt.ArrayLike, desired: npt.ArrayLike, floor: float) -> np.ndarray:
    """|actual - desired| / max(|desired|, floor): the audit's measure for a user's code."""
    return _distance(actual, desired, lambda d: np.maximum(np.abs(d), floor))


def ulp_frame(actual: pd.DataFrame, desired: pd.DataFrame, dtype: str, floor: float) -> pd.DataFrame:
    """Per epoch and value, the ULP distance of two trajectories (the ``epoch`` column kept)."""
    values = actual.columns.drop("epoch")
    distance = ulp_distance(actual[values].to_numpy(), desired[values].to_numpy(), dtype, floor)
    return pd.concat([actual[["epoch"]].reset_index(drop=True), pd.DataFrame(distance, columns=values)], axis=1)
