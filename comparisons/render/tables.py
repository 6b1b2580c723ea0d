"""The main job's CSV per run: every epoch's values, both sides, and how far apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # read, never built, here: Comparison renders itself through this package
    from comparisons.comparison import Comparison

__all__ = ["run_csv"]


def run_csv(result: Comparison) -> pd.DataFrame:
    """Per epoch, for the loss and every parameter: manual, keras, abs diff, ulp, side by side."""
    columns: dict[str, object] = {"epoch": result.manual["epoch"]}
    for value in result.manual.columns.drop("epoch"):
        columns[f"{value} manual"] = result.manual[value]
        columns[f"{value} keras"] = result.keras[value]
        columns[f"{value} abs diff"] = result.abs_diff[value]
        columns[f"{value} ulp"] = result.ulps[value]
    return pd.DataFrame(columns)
