"""The one place that knows both sides: runs them, diffs them, reports, and the CLI.

Depends on manual/ and reference/; neither depends on it. Importing it imports
nothing heavy: each name below loads its module when first used, so the
audit's child process and a cached audit pay neither for pandas nor for
tensorflow until they need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers
    from comparisons.audit.api import audit_optimizer, audit_step
    from comparisons.comparison import Comparison
    from comparisons.data import read_csv, to_arrays
    from comparisons.errors import InputError
    from comparisons.problems import PROBLEMS, Problem
    from comparisons.run import IMPLEMENTATIONS, initial_params, manual_step, run_keras, run_manual
    from comparisons.spec import DTYPES, INITS, ORDERS, Spec, row_order
    from comparisons.testing import assert_trajectory_matches
    from comparisons.tolerances import TOLERANCES, Tolerance, tolerance_for
    from comparisons.ulp import ulp_distance, ulp_frame
    from comparisons.verdict import compare

_WHERE = {
    "Comparison": "comparison",
    "read_csv": "data",
    "to_arrays": "data",
    "InputError": "errors",
    "audit_step": "audit.api",
    "audit_optimizer": "audit.api",
    "PROBLEMS": "problems",
    "Problem": "problems",
    "IMPLEMENTATIONS": "run",
    "compare": "verdict",
    "initial_params": "run",
    "manual_step": "run",
    "run_keras": "run",
    "run_manual": "run",
    "DTYPES": "spec",
    "INITS": "spec",
    "ORDERS": "spec",
    "Spec": "spec",
    "row_order": "spec",
    "assert_trajectory_matches": "testing",
    "TOLERANCES": "tolerances",
    "Tolerance": "tolerances",
    "tolerance_for": "tolerances",
    "ulp_distance": "ulp",
    "ulp_frame": "ulp",
}

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
    "Spec",
    "Tolerance",
    "assert_trajectory_matches",
    "audit_optimizer",
    "audit_step",
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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'comparisons' has no attribute {name!r}")
    return getattr(importlib.import_module(f"comparisons.{_WHERE[name]}"), name)
