"""The audit and a graded submission as JSON: what ``--json`` prints, one object each."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from comparisons.audit.render.feedback import student_text
from comparisons.audit.scores import tensor_of
from reference import numerics

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.grade import Grade
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit
    from comparisons.audit.rubric import Rubric
    from comparisons.audit.scores import Score

__all__ = ["audit_json", "grade_json", "gradescope_json", "optimizer_json", "score_json"]


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


def gradescope_json(grade: Grade, rubric: Rubric) -> dict[str, Any]:
    """Gradescope's results.json (gradescope-autograders.readthedocs.io, specs, "Output format"):
    the score, the student's feedback, one test per rubric group (its points, visibility, and what
    names it), a test for the verdict's points where the rubric has them and one for its deductions;
    stdout, the audit's full text, for instructors only."""
    score = grade.score
    assert score is not None
    tests = []
    for g in score.groups:
        if g.right:
            said = "right: every update agrees with Keras's, step by step"
        elif grade.audit is None:
            said = f"not graded: {student_text(grade.error or '')}"
        else:
            naming = [f for f in grade.audit.findings if g.group in {tensor_of(p) for p in f.parameters}]
            said = "\n".join(f"{f.kind}: {student_text(f.message)}" for f in naming) or (
                "off at a step from Keras's state (the first difference says where)"
            )
        tests.append(_test(g.label, g.points, g.max_points, said, g.visibility))
    if rubric.verdict:
        matched = grade.verdict == "match"
        said = "a match: every update and loss is Keras's" if matched else "not a match"
        tests.append(_test("the verdict", rubric.verdict if matched else 0.0, rubric.verdict, said, rubric.visibility))
    if score.deducted:
        kinds = [f.kind for f in grade.audit.findings] if grade.audit is not None else []
        said = f"{score.deducted:g} off for {', '.join(dict.fromkeys(k for k in kinds if rubric.deductions.get(k)))}"
        tests.append(_test("deductions", -score.deducted, 0.0, said, rubric.visibility))
    # where the rubric hides a group's test, the feedback's details, which name every group, stay with the tests
    hidden = any(g.visibility != "visible" for g in score.groups) or rubric.visibility != "visible"
    output = f"{grade.feedback.splitlines()[0]} Each test below says what it found." if hidden else grade.feedback
    return {
        "score": score.points,
        "output": output,
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _test(name: str, points: float, max_points: float, output: str, visibility: str) -> dict[str, Any]:
    return {
        "name": name,
        "score": points,
        "max_score": max_points,
        "status": "passed" if points >= max_points else "failed",
        "output": output,
        "visibility": visibility,
    }
