"""The document's two problems, exactly as it gives them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from manual import Architecture, Step, classification_step, regression_step

__all__ = ["PROBLEMS", "Problem"]


@dataclass(frozen=True)
class Problem:
    name: str
    features: tuple[str, ...]
    target: str
    rows: tuple[tuple[float, ...], ...]
    arch: Architecture
    formula_step: Step  # the document's per-parameter rules for this problem
    learning_rate: float  # the tutorial notebooks' default

    def data(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=[*self.features, self.target], dtype="float64")


PROBLEMS = {
    "regression": Problem(
        name="regression",
        features=("cgpa", "resume_score"),
        target="package",
        rows=((8, 8, 4), (7, 9, 5), (6, 10, 6), (5, 12, 7)),
        arch=Architecture((2, 2, 1), ("linear", "linear"), "mean_squared_error"),
        formula_step=regression_step,
        learning_rate=0.001,
    ),
    "classification": Problem(
        name="classification",
        features=("cgpa", "resume_score"),
        target="placed",
        rows=((8, 8, 1), (7, 9, 1), (6, 10, 0), (5, 5, 0)),
        arch=Architecture((2, 2, 1), ("sigmoid", "sigmoid"), "binary_crossentropy"),
        formula_step=classification_step,
        learning_rate=0.0001,
    ),
}
