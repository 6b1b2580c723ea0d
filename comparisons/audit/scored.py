"""The default rubric's score and feedback on an audit's result, for the Jupyter API: an nbgrader
autograded cell can return ``audit.score`` (nbgrader's partial credit), and show ``audit.feedback``."""

from __future__ import annotations

from typing import Any

from comparisons.audit.render.feedback import feedback
from comparisons.audit.rubric import DEFAULT_RUBRIC
from comparisons.audit.scores import Score, score

__all__ = ["Scored"]


class Scored:
    """Mixed into Audit and OptimizerAudit, whose ``tensors`` are the rubric's groups."""

    tensors: list[str]

    @property
    def scored(self) -> Score:
        result: Any = self
        return score(result, self.tensors)

    @property
    def score(self) -> float:
        return self.scored.points

    @property
    def max_score(self) -> float:
        return self.scored.max_points

    @property
    def feedback(self) -> str:
        result: Any = self
        return feedback(result, self.scored, DEFAULT_RUBRIC)
