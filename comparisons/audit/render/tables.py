"""A graded class as grades.csv: a row per submission, its first divergence and findings in columns."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # read, never built, here
    from comparisons.audit.grade import Grade

__all__ = ["COLUMNS", "final_grades_csv", "grades_csv"]

COLUMNS = [
    "path",
    "verdict",
    "first_init",
    "first_epoch",
    "first_step",
    "first_values",
    "findings",
    "known_bugs",
    "error",
    "convention",  # a learner's optimizer: the convention its updates follow (keras, textbook, ...)
    "score",  # the rubric's (comparisons.audit.rubric), its maximum, and why
    "max_score",
    "reason",
    "feedback",  # what the student reads
]


def _row(grade: Grade) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row |= {"path": grade.path, "verdict": grade.verdict, "error": grade.error or "", "feedback": grade.feedback}
    if grade.score is not None:
        row |= {"score": f"{grade.score.points:g}", "max_score": f"{grade.score.max_points:g}"}
        row["reason"] = grade.score.reason
    if grade.audit is None:
        return row
    first = getattr(grade.audit, "first_divergence", None)  # a learner's optimizer has none: its findings say
    if first is not None:
        row |= {
            "first_init": first.init,
            "first_epoch": str(first.epoch),
            "first_step": str(first.step),
            "first_values": " ".join(p["name"] for p in first.parameters),
        }
    row["findings"] = "; ".join(f"{f.kind}: {' '.join(f.parameters)}" for f in grade.audit.findings)
    row["known_bugs"] = " ".join(getattr(grade.audit, "bugs", None) or [])
    row["convention"] = getattr(grade.audit, "convention", None) or ""
    return row


def grades_csv(grades: list[Grade]) -> str:
    buffer = io.StringIO()
    pd.DataFrame([_row(g) for g in grades], columns=COLUMNS).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def final_grades_csv(grades: list[Grade]) -> str:
    """Otter-Grader's final_grades.csv, as ``otter grade`` of Otter-Grader 5 writes it
    (otter/grade/containers.py, grade_submission, and otter/grade/__init__.py): ``file``, a column
    per test with its score (here each rubric group, by its tensor's name, sorted as Otter sorts
    its questions), and ``percent_correct``, the total over the possible points (0 to 1)."""
    groups = sorted({g.group for grade in grades if grade.score for g in grade.score.groups})
    # the rubric's other tests, where it has them: the points only a match earns, and the deductions
    extra = [
        name
        for name, used in (("verdict", _any(grades, "verdict_points")), ("deductions", _any(grades, "deducted")))
        if used
    ]
    rows = []
    for grade in grades:
        assert grade.score is not None
        scores = {g.group: g.points for g in grade.score.groups}
        scores |= {"verdict": grade.score.verdict_points, "deductions": -grade.score.deducted}
        rows.append(
            {"file": grade.path, **{name: scores.get(name, 0.0) for name in [*groups, *extra]}}
            | {"percent_correct": grade.score.points / grade.score.max_points}
        )
    buffer = io.StringIO()
    columns = ["file", *groups, *extra, "percent_correct"]
    pd.DataFrame(rows, columns=columns).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _any(grades: list[Grade], field: str) -> bool:
    return any(grade.score is not None and getattr(grade.score, field) for grade in grades)
