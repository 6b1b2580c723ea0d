"""The one place that knows both sides: runs them, diffs them, reports, and the CLI.

Depends on manual/ and reference/; neither depends on it. Importing it does not
import tensorflow: that waits until a Keras trajectory is needed.
"""

from comparisons.compare import Comparison
from comparisons.datasets import read_csv, to_arrays
from comparisons.errors import InputError
from comparisons.problems import PROBLEMS, Problem
from comparisons.run import IMPLEMENTATIONS, compare, initial_params, manual_step, run_keras, run_manual
from comparisons.spec import DTYPES, INITS, ORDERS, RunSpec, row_order
from comparisons.testing import assert_trajectory_matches
from comparisons.tolerances import TOLERANCES, Tolerance, tolerance_for
from comparisons.ulp import ulp_distance, ulp_frame

__all__ = [
    "DTYPES",
    "IMPLEMENTATIONS",
    "INITS",
    "ORDERS",
    "PROBLEMS",
    "TOLERANCES",
    "Comparison",
    "InputError",
    "Problem",
    "RunSpec",
    "Tolerance",
    "assert_trajectory_matches",
    "compare",
    "initial_params",
    "manual_step",
    "read_csv",
    "row_order",
    "run_keras",
    "run_manual",
    "to_arrays",
    "tolerance_for",
    "ulp_distance",
    "ulp_frame",
]
