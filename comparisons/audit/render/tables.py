"""A graded class as grades.csv: a row per submission, its first divergence and findings in columns."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # read, never built, here
    from comparisons.audit.grade import Grade

__all__ = ["COLUMNS", "grades_csv"]

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
]


def _row(grade: Grade) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row |= {"path": grade.path, "verdict": grade.verdict, "error": grade.error or ""}
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
