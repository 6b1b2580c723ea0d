"""comparisons.comparison: both trajectories as DataFrames, their differences, and the verdict."""

from __future__ import annotations

import numpy as np

from comparisons import Comparison, Spec, compare, ulp_distance
from manual.row.bugs import KNOWN_BUGS
from tests.conftest import Trajectories

COLUMNS = ["epoch", "loss", "w^1_11", "w^1_12", "w^1_21", "w^1_22", "b_11", "b_12", "w^2_11", "w^2_21", "b_21"]


def test_compare_returns_both_trajectories_and_their_differences() -> None:
    spec = Spec.document(problem="classification", dtype="float32", order="sample", init="random", epochs=4, seed=2)
    result = compare(spec, "layerwise")
    for frame in (result.manual, result.keras, result.abs_diff, result.ulps):
        assert list(frame.columns) == COLUMNS
        assert frame["epoch"].tolist() == [1, 2, 3, 4]
    assert result.manual["w^1_11"].dtype == np.float32
    values = COLUMNS[1:]
    expected_abs = np.abs(result.manual[values].to_numpy(np.float64) - result.keras[values].to_numpy(np.float64))
    np.testing.assert_array_equal(result.abs_diff[values].to_numpy(), expected_abs)
    expected_ulps = ulp_distance(result.manual[values], result.keras[values], "float32", result.tolerance.floor)
    np.testing.assert_array_equal(result.ulps[values].to_numpy(), expected_ulps)
    assert result.matches
    assert result.verdict in ("identical", "match")


def test_verdict_and_first_epoch_over(trajectories: Trajectories) -> None:
    spec = Spec.document(problem="regression", dtype="float64", init="random", epochs=20)
    good = Comparison(spec, trajectories.manual(spec, "formulas"), trajectories.keras(spec))
    assert (good.verdict, good.first_epoch_over, good.max_ulp_weights, good.max_ulp_loss) == ("identical", None, 0, 0)
    buggy = trajectories.run(spec, KNOWN_BUGS["loss-after-update"].implementation(spec.definition.arch))
    bad = Comparison(spec, buggy, trajectories.keras(spec))
    assert bad.max_ulp_weights == 0  # the weights are right: only the reported loss is wrong
    assert bad.max_ulp_loss > 0
    assert (bad.first_epoch_over, bad.verdict) == (1, "MISMATCH from epoch 1")
