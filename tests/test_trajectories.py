"""The core claim: manual backprop and Keras agree after every epoch, for every problem, dtype, order and init."""

from __future__ import annotations

import itertools

import pytest

from comparisons import (
    DTYPES,
    IMPLEMENTATIONS,
    INITS,
    ORDERS,
    PROBLEMS,
    Spec,
    assert_trajectory_matches,
    tolerance_for,
)
from tests.conftest import Trajectories

EPOCHS = 20  # every one asserted; the long marker runs 1000
LONG_EPOCHS = 1000

CASES = list(itertools.product(PROBLEMS, DTYPES, ORDERS, INITS))


def _check(trajectories: Trajectories, spec: Spec, implementation: str, epoch: int | None) -> None:
    assert_trajectory_matches(
        trajectories.manual(spec, implementation),
        trajectories.keras(spec),
        dtype=spec.dtype,
        tolerance=tolerance_for(spec.problem, spec.dtype),
        epochs=epoch,
        header=f"{spec.label} ({implementation} vs Keras)",
    )


@pytest.mark.parametrize(
    ("problem", "dtype", "order", "init", "implementation", "epoch"),
    [
        pytest.param(*case, impl, epoch, id=f"{'-'.join(case)}-{impl}-epoch{epoch:03d}")
        for case in CASES
        for impl in IMPLEMENTATIONS
        for epoch in range(1, EPOCHS + 1)
    ],
)
def test_epoch_matches_keras(
    trajectories: Trajectories, problem: str, dtype: str, order: str, init: str, implementation: str, epoch: int
) -> None:
    spec = Spec.document(problem=problem, dtype=dtype, order=order, init=init, epochs=EPOCHS)
    _check(trajectories, spec, implementation, epoch)


@pytest.mark.long
@pytest.mark.parametrize(
    ("problem", "dtype", "order", "init", "implementation"),
    [
        pytest.param(*case, impl, id=f"{'-'.join(case)}-{impl}-{LONG_EPOCHS}epochs")
        for case in CASES
        for impl in IMPLEMENTATIONS
    ],
)
def test_long_run_matches_keras(
    trajectories: Trajectories, problem: str, dtype: str, order: str, init: str, implementation: str
) -> None:
    """All 1000 epochs; a failure names the first epoch out of tolerance."""
    spec = Spec.document(problem=problem, dtype=dtype, order=order, init=init, epochs=LONG_EPOCHS)
    _check(trajectories, spec, implementation, None)


def test_regression_is_bit_identical(trajectories: Trajectories) -> None:
    """Not only within tolerance: the regression tolerance is zero, and so is the distance."""
    for dtype in DTYPES:
        spec = Spec.document(problem="regression", dtype=dtype, order="shuffle", init="random", epochs=EPOCHS)
        manual, keras = trajectories.manual(spec, "formulas"), trajectories.keras(spec)
        assert manual.equals(keras), f"{spec.label}: regression trajectories are not bit-identical"
