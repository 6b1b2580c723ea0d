"""Diff two trajectories: absolute and ULP differences per epoch, and a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from comparisons.render.html import comparison_html
from comparisons.spec import Spec
from comparisons.tolerances import Tolerance
from comparisons.ulp import ulp_frame

__all__ = ["Comparison", "Rounding", "StepCheck"]

# Where rounding, not the code, decided what the free-running trajectories show (issue 19)
ROUNDING_KINDS = ("zero-gradient", "branch", "amplified", "ill-conditioned")


@dataclass(frozen=True)
class Rounding:
    """One place where rounding decided the mathematics: a parameter's (or, with ``parameter``
    empty, the run's), its kind (one of ROUNDING_KINDS), where it is first seen, and why."""

    kind: str
    parameter: str
    epoch: int
    step: int
    message: str


@dataclass(frozen=True)
class StepCheck:
    """Every step of the manual side from Keras's full state before it (comparisons/per_step.py):
    ``worst`` the largest distance over its derived bound, ``first_over`` the first step that does not
    agree (epoch, step, parameter), and what rounding decided."""

    worst: float
    first_over: tuple[int, int, str] | None
    rounding: tuple[Rounding, ...]

    @property
    def holds(self) -> bool:
        return self.first_over is None


@dataclass(frozen=True)
class Comparison:
    """The manual trajectory (actual) against the Keras one (desired), under one spec; for a network
    whose free-running trajectories separate, the per-step check that judges it instead."""

    spec: Spec
    manual: pd.DataFrame
    keras: pd.DataFrame
    step_check: StepCheck | None = None

    @property
    def tolerance(self) -> Tolerance:
        return self.spec.tolerance

    def _repr_html_(self) -> str:
        """In Jupyter: the verdict and the report's plots."""
        return comparison_html(self)

    @property
    def parameters(self) -> list[str]:
        return [c for c in self.manual.columns if c not in ("epoch", "loss")]

    @cached_property
    def abs_diff(self) -> pd.DataFrame:
        values = self.manual.columns.drop("epoch")
        diff = (self.manual[values].astype("float64") - self.keras[values].astype("float64")).abs()
        return pd.concat([self.manual[["epoch"]], diff], axis=1)

    @cached_property
    def ulps(self) -> pd.DataFrame:
        return ulp_frame(self.manual, self.keras, self.spec.dtype, self.tolerance.floor)

    @property
    def max_ulp_weights(self) -> float:
        return float(self.ulps[self.parameters].to_numpy().max())

    @property
    def max_ulp_loss(self) -> float:
        return float(self.ulps["loss"].max())

    @cached_property
    def over(self) -> np.ndarray:
        """Per epoch: does any value exceed its tolerance?"""
        values = list(self.ulps.columns.drop("epoch"))
        return np.asarray((self.ulps[values].to_numpy() > self.tolerance.bounds(values)).any(axis=1))

    @property
    def first_epoch_over(self) -> int | None:
        hits = np.flatnonzero(self.over)
        return int(self.manual["epoch"].iloc[hits[0]]) if len(hits) else None

    @property
    def identical(self) -> bool:
        return self.max_ulp_weights == 0 and self.max_ulp_loss == 0

    @property
    def rounding_decided(self) -> bool:
        """Free-running separates, but every step agrees from the same state and rounding says why."""
        check = self.step_check
        return self.first_epoch_over is not None and check is not None and check.holds and bool(check.rounding)

    @property
    def matches(self) -> bool:
        return self.first_epoch_over is None or self.rounding_decided

    @property
    def verdict(self) -> str:
        if self.identical:
            return "identical"
        if self.first_epoch_over is None:
            return "match"
        if self.rounding_decided:
            assert self.step_check is not None
            kinds = ", ".join(dict.fromkeys(r.kind for r in self.step_check.rounding))
            return f"match (per step; free-running separates from epoch {self.first_epoch_over}, {kinds})"
        return f"MISMATCH from epoch {self.first_epoch_over}"
