"""The harness's assertions catch every known bug, under exactly the inits that expose it.

A bug invisible under an init is not assumed: the test asserts that the buggy
trajectory really does pass there, so the table below is a measured fact.
"""

from __future__ import annotations

import pytest

from comparisons import DTYPES, INITS, PROBLEMS, Spec, assert_trajectory_matches, tolerance_for
from manual.row.bugs import KNOWN_BUGS, bugs_for
from tests.conftest import Trajectories

EPOCHS = 20


def invisible(problem: str, bug: str, dtype: str, init: str) -> bool:
    """Where a bug leaves no trace that the harness could see (measured, and asserted below)."""
    # With every weight 0.1 the two hidden neurons are interchangeable and stay so
    # (w^2_11 = w^2_21 forever), so routing each neuron's error through the other's
    # output weight changes nothing, in any dtype.
    if (bug, init) == ("hidden-error-crossed", "seed"):
        return True
    # Using the updated W2 changes each hidden update by about eta^2 |dW2| |dz| ~ 1e-9
    # at classification's eta = 1e-4. Keras's Glorot weights are near 1, where half
    # a float32 ULP is 6e-8: the rounding of w - eta g erases the bug. (float64: caught
    # at epoch 1; float32 with weights near 0.1: caught by epoch 10.)
    return (problem, bug, dtype, init) == ("classification", "W2-updated-first", "float32", "keras")


CASES = [
    pytest.param(problem, bug.name, dtype, init, id=f"{problem}-{dtype}-{init}-{bug.name}")
    for problem, definition in PROBLEMS.items()
    for bug in bugs_for(definition.arch)
    for dtype in DTYPES
    for init in INITS
]


@pytest.mark.parametrize(("problem", "bug", "dtype", "init"), CASES)
def test_known_bug_is_caught_where_visible(
    trajectories: Trajectories, problem: str, bug: str, dtype: str, init: str
) -> None:
    spec = Spec.document(problem=problem, dtype=dtype, init=init, epochs=EPOCHS)
    buggy = trajectories.run(spec, KNOWN_BUGS[bug].implementation(spec.definition.arch))
    check = {
        "actual": buggy,
        "desired": trajectories.keras(spec),
        "dtype": dtype,
        "tolerance": tolerance_for(problem, dtype),
    }
    if invisible(problem, bug, dtype, init):
        assert_trajectory_matches(**check)  # type: ignore[arg-type]  # really invisible: it passes
    else:
        with pytest.raises(AssertionError, match=r"epoch \d+: \d+ of 10 values differ"):
            assert_trajectory_matches(**check)  # type: ignore[arg-type]


def test_every_known_bug_is_exercised() -> None:
    exercised = {case.values[1] for case in CASES}
    assert exercised == set(KNOWN_BUGS)


def test_failure_names_epoch_step_parameter_and_distance(trajectories: Trajectories) -> None:
    spec = Spec.document(problem="regression", dtype="float64", init="seed", epochs=EPOCHS)
    buggy = trajectories.run(spec, KNOWN_BUGS["b2-from-W2"].implementation(spec.definition.arch))
    with pytest.raises(AssertionError) as caught:
        assert_trajectory_matches(
            buggy,
            trajectories.keras(spec),
            dtype="float64",
            tolerance=tolerance_for("regression", "float64"),
            header="regression float64 sequential seed",
        )
    message = str(caught.value)
    assert message.startswith("regression float64 sequential seed, epoch 1: ")
    b21 = next(line for line in message.splitlines() if line.strip().startswith("b_21"))
    actual, desired = buggy["b_21"].iloc[0], trajectories.keras(spec)["b_21"].iloc[0]
    assert repr(float(actual)) in b21, b21
    assert repr(float(desired)) in b21, b21
    assert "Max absolute difference" in message
    assert "Max relative difference" in message
