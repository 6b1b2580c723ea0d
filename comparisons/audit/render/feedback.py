"""What the student reads: the score, the verdict, each finding's parameters and what to check, and
the first difference, in the learner's terms. Nothing of the grading machine: no paths but the
file's own name, no option of the grader's command, nothing from the sandbox.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from comparisons.audit.scores import tensor_of

if TYPE_CHECKING:  # read, never built, here
    from comparisons.audit.findings import Finding
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit
    from comparisons.audit.rubric import Rubric
    from comparisons.audit.scores import Score

__all__ = ["error_feedback", "feedback", "student_text"]

SHOWN_VALUES = 3  # the first difference's values the feedback spells out; it counts the rest

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/:()'\",;]+)+/([^\s/:()'\",;]+)")
_GRADER_OPTION = re.compile(r" \(--[a-z-]+\)")  # "the limit is 256 MiB (--memory)"
_OPTION_NAMED = re.compile(r"--[a-z][a-z-]* ")  # "tried --layout columns, out-in": the value alone


def student_text(text: str) -> str:
    """A message with the grading machine taken out: each absolute path as its file's name, no
    option of the grader's command."""
    return _OPTION_NAMED.sub("", _GRADER_OPTION.sub("", _PATH.sub(r"\1", text)))


def _points(score: Score) -> str:
    return f"Score: {score.points:g}/{score.max_points:g}."


def feedback(result: Audit | OptimizerAudit, score: Score, rubric: Rubric) -> str:
    lines = [f"{_points(score)} {_verdict(result)}"]
    if result.verdict != "match":
        right = [g.label for g in score.groups if g.right]
        if right:
            lines.append(f"Right: {', '.join(right)}.")
        if result.findings:
            lines.append("To check:")
            labels = {g.group: g.label for g in score.groups}
            lines += [f"- {_named(f, labels)}: {student_text(f.message)}" for f in result.findings]
        first = _first(result, rubric.show_values)
        if first:
            lines.append(first)
    if score.deducted:
        points = "point" if score.deducted == 1 else "points"
        lines.append(f"{score.deducted:g} {points} off for findings that name no parameter.")
    return "\n".join(lines)


def error_feedback(error: str, score: Score) -> str:
    if error.startswith("internal error"):
        said = "the grader failed on it, not your code; your instructor has the details"
    else:
        said = student_text(error)
    return f"{_points(score)} Your code could not be graded: {said}"


def _verdict(result: Audit | OptimizerAudit) -> str:
    if hasattr(result, "convention"):  # a learner's optimizer, judged against its method's conventions
        optimizer: Any = result
        named = f"{optimizer.described} (the {optimizer.convention} convention)"
        if optimizer.verdict == "match":
            return f"Your optimizer is {named}: every update right."
        if optimizer.convention is not None:
            return f"Your optimizer is {named}, but with the findings below."
        kind = optimizer.optimizer
        return f"Your optimizer's updates follow none of {kind}'s conventions; the findings below say where."
    if result.verdict == "match":
        return f"Your code matches Keras after every step, under init {', '.join(result.inits)}."
    return "Your code's updates differ from Keras's; the findings below say where."


def _named(finding: Finding, labels: dict[str, str]) -> str:
    tensors = list(dict.fromkeys(t for t in map(tensor_of, finding.parameters) if t is not None))
    none = "a default" if finding.kind == "hyperparameter" else "the loss"
    return ", ".join(labels.get(t, t) for t in tensors) or none


def _first(result: Audit | OptimizerAudit, show_values: bool) -> str | None:
    first = getattr(result, "first_divergence", None)
    if first is None:
        return None
    where = f"First difference: init {first.init}, epoch {first.epoch}, step {first.step}"
    values = first.parameters
    if not show_values:
        return f"{where}: {', '.join(p['name'] for p in values)}."
    said = [f"{p['name']} is {p['user']:.10g} where Keras has {p['keras']:.10g}" for p in values[:SHOWN_VALUES]]
    more = f" (and {len(values) - SHOWN_VALUES} more values)" if len(values) > SHOWN_VALUES else ""
    return f"{where}: {'; '.join(said)}{more}."
