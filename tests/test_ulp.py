"""ULP distances: exact on neighbours, the floor near zero, NaN and infinities."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons import ulp_distance


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("value", [0.7, -3.25, 1e-3, 123.456])
def test_neighbours_are_one_ulp_apart(dtype: str, value: float) -> None:
    x = np.array([value], dtype=dtype)
    up = np.nextafter(x, np.array([np.inf], dtype=dtype))
    assert ulp_distance(x, x, dtype, floor=0.0)[0] == 0
    assert ulp_distance(up, x, dtype, floor=0.0)[0] == 1
    three = np.nextafter(np.nextafter(up, np.inf), np.inf).astype(dtype)
    assert ulp_distance(three, x, dtype, floor=0.0)[0] == 3


def test_floor_measures_small_values_in_ulps_of_the_floor() -> None:
    a, d = np.float64(1e-12), np.float64(0.0)
    assert ulp_distance(a, d, "float64", floor=0.0) > 1e300  # relative to zero: meaningless
    assert ulp_distance(a, d, "float64", floor=0.1) == pytest.approx(1e-12 / np.spacing(0.1))


def test_dtype_sets_the_unit() -> None:
    a, d = np.float64(1.0 + 2**-23), np.float64(1.0)
    assert ulp_distance(a, d, "float32", floor=0.0) == 1
    assert ulp_distance(a, d, "float64", floor=0.0) == 2**29


def test_nan_and_infinity() -> None:
    nan, inf = np.float64("nan"), np.float64("inf")
    assert ulp_distance(nan, 1.0, "float64", floor=0.1) == np.inf
    assert ulp_distance(1.0, nan, "float64", floor=0.1) == np.inf
    assert ulp_distance(nan, nan, "float64", floor=0.1) == 0  # both sides blew up alike
    assert ulp_distance(inf, inf, "float64", floor=0.1) == 0
    assert ulp_distance(inf, -inf, "float64", floor=0.1) == np.inf
    assert ulp_distance(inf, 1.0, "float64", floor=0.1) == np.inf
