"""The audit and a graded submission as JSON: what ``--json`` prints, one object each."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from reference import numerics

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.grade import Grade
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit
    from comparisons.audit.scores import Score

__all__ = ["audit_json", "grade_json", "optimizer_json", "score_json"]


def audit_json(result: Audit) -> dict[str, Any]:
    first = result.first_divergence
    return {
        "verdict": result.verdict,
        "numerics": numerics.key(),  # Keras's side was computed (or cached) under this configuration
        "problem": result.problem,
        "dtype": result.dtype,
        "epochs": result.epochs,
        "threshold": result.threshold,
        "runs": [
            {
                "init": r.init,
                "verdict": r.verdict,
                "max_distance": r.max_distance,
                "trajectory": "match" if r.divergence is None else "diverged",
            }
            for r in result.runs
        ],
        "first_divergence": None
        if first is None
        else {
            "init": first.init,
            "epoch": first.epoch,
            "step": first.step,
            "row": first.row,
            "row_values": first.row_values,
            "batch_rows": first.batch,
            "parameters": first.parameters,
            "from_keras_state": all(r.divergence is None for r in result.runs),
        },
        "diagnosis": {
            "findings": [f.as_json() for f in result.findings],
            "known_bugs": result.bugs or [],
            "per_parameter": True,  # every network's updates are explained; the key stays for readers of the old shape
        },
        "notebook": None
        if result.notebook is None
        else {
            "code_cells": result.notebook.cells,
            "definitions": len(result.notebook.kept),
            "skipped_statements": result.notebook.skipped,
            "order": result.notebook.order,
            "cells": None if result.notebook.selected is None else list(result.notebook.selected),
        },
        "functions": result.functions,
        "layout": result.layout,
        "notes": result.notes,
    }


def grade_json(grade: Grade) -> dict[str, Any]:
    """One line of ``grade --json``: the submission's audit, or its error; its score and feedback."""
    scored = {"score": None if grade.score is None else score_json(grade.score), "feedback": grade.feedback}
    if grade.audit is None:
        return {"path": grade.path, "verdict": "error", "error": grade.error, **scored}
    return {"path": grade.path, **grade.audit.to_json(), **scored}


def score_json(score: Score) -> dict[str, Any]:
    return {
        "points": score.points,
        "max_points": score.max_points,
        "reason": score.reason,
        "deducted": score.deducted,
        "groups": [
            {
                "group": g.group,
                "name": g.label,
                "points": g.points,
                "max_points": g.max_points,
                "right": g.right,
                "findings": g.kinds,
                "visibility": g.visibility,
            }
            for g in score.groups
        ],
    }


def optimizer_json(result: OptimizerAudit) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "numerics": numerics.key(),  # Keras's own optimizer ran under this configuration
        "optimizer": result.optimizer,
        "contract": result.contract,
        "function": result.label,
        "convention": result.convention,
        "convention_description": result.described,
        "dtype": result.dtype,
        "steps": result.steps,
        "inits": result.inits,
        "reshaped": result.reshaped,  # {"init", "step"} where an update first changed a shape: the runs end there
        "threshold": result.threshold,
        "distance": result.distance if math.isfinite(result.distance) else None,  # None: NaN or infinite updates
        "keras_distance": None if math.isnan(result.keras) else result.keras,  # None: not run (no convention found)
        "hyperparameters": {name: {"value": value, "source": source} for name, (value, source) in result.hyper.items()},
        "diagnosis": {"findings": [f.as_json() for f in result.findings]},
    }
