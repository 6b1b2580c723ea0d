"""A submission's score from a rubric (comparisons.audit.rubric), with its reason and the student's feedback.

The groups are the network's tensors: each layer's W and b (the document's networks call them the
hidden weights W1, the hidden biases b1, the output weights W2 and the output bias b2). A group's
updates are right when no finding names any of its parameters and none of them is off at the first
step whose update, made from Keras's own state, is not Keras's. Read, never built, here: the audit's
results come in by their attributes, so Audit and OptimizerAudit can say their own score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from comparisons.audit.rubric import DEFAULT_RUBRIC, Rubric

if TYPE_CHECKING:
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit

__all__ = ["DOCUMENT_GROUPS", "GroupScore", "Score", "error_score", "group_label", "score", "tensor_of"]

# what the document's 2-2-1 networks call their tensors, in the learner's words
DOCUMENT_GROUPS = {"W1": "hidden weights", "b1": "hidden biases", "W2": "output weights", "b2": "output bias"}


@dataclass(frozen=True)
class GroupScore:
    group: str  # the tensor: W1, b1, ...
    label: str  # what the student reads: "output weights (W2)"
    points: float
    max_points: float
    visibility: str
    kinds: list[str]  # why it is not right: the findings that name it, or what else kept it from being judged
    right: bool  # judged over the whole run, and right: whatever its points (a group may be worth 0)


@dataclass(frozen=True)
class Score:
    points: float
    max_points: float
    reason: str  # one line, for the gradebook
    groups: list[GroupScore]
    deducted: float  # the rubric's deductions, per finding of a kind it names
    verdict_points: float  # the points only a match earns, when it did


def group_label(group: str, document: bool) -> str:
    if document and group in DOCUMENT_GROUPS:
        return f"{DOCUMENT_GROUPS[group]} ({group})"
    return f"layer {group[1:]} {'weights' if group[0] == 'W' else 'biases'} ({group})"


def tensor_of(name: str) -> str | None:
    """The tensor a finding's parameter belongs to: W1 itself, w^2_11's W2, b_12's b1; None for a
    hyperparameter (beta_2)."""
    if re.fullmatch(r"[Wb]\d+", name):
        return name
    weight = re.fullmatch(r"w\^(\d+)_\d+", name)
    if weight:
        return f"W{weight.group(1)}"
    bias = re.fullmatch(r"b_(\d)\d+", name)
    return f"b{bias.group(1)}" if bias else None


def _floor(points: float) -> float:
    """Rounded down to one decimal, the float error of the sum aside (7.5 stays 7.5)."""
    return math.floor(round(points * 10, 6)) / 10


def score(result: Audit | OptimizerAudit, tensors: list[str], rubric: Rubric = DEFAULT_RUBRIC) -> Score:
    """``tensors``: the network's, in order (W1, b1, ...)."""
    points = rubric.points(tensors)
    document = getattr(result, "problem", None) in ("regression", "classification")
    named: dict[str, list[str]] = {t: [] for t in tensors}
    for f in result.findings:
        for name in f.parameters:
            tensor = tensor_of(name)
            if tensor in named and f.kind not in named[tensor]:
                named[tensor].append(f.kind)
    off_from_keras = {
        p["array"]
        for run in getattr(result, "runs", [])
        if run.forced_divergence is not None
        for p in run.forced_divergence.parameters
        if p["array"] is not None
    }
    # an optimizer whose run ended where an update changed a shape: its later updates were never judged
    ended = getattr(result, "reshaped", None)
    unjudged = [] if ended is None else [f"not judged after init {ended['init']}, step {ended['step']}"]
    match = result.verdict == "match"
    groups = []
    for t in tensors:
        why = named[t] or (["off at a step from Keras's state"] if t in off_from_keras else unjudged)
        judged_right = match or not why
        groups.append(
            GroupScore(
                t,
                group_label(t, document),
                points[t] if judged_right else 0.0,
                points[t],
                rubric.visibility_of(t),
                why,
                judged_right,
            )
        )
    if match:
        return Score(rubric.total, rubric.total, "match", groups, 0.0, rubric.verdict)
    deducted = sum(rubric.deductions.get(f.kind, 0.0) for f in result.findings)
    earned = _floor(max(0.0, sum(g.points for g in groups) - deducted))
    right = [g.group for g in groups if g.right]
    wrong = [f"{g.group} ({', '.join(g.kinds)})" for g in groups if not g.right]
    reason = f"diverged: {len(right)} of {len(groups)} groups right" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
    if deducted:
        kinds = sorted({f.kind for f in result.findings if rubric.deductions.get(f.kind)})
        reason += f"; {deducted:g} off for {', '.join(kinds)}"
    return Score(earned, rubric.total, reason, groups, deducted, 0.0)


def error_score(error: str, tensors: list[str], rubric: Rubric = DEFAULT_RUBRIC, document: bool = False) -> Score:
    """An error, a timeout or a memory limit: 0, with the reason."""
    points = rubric.points(tensors)
    groups = [
        GroupScore(t, group_label(t, document), 0.0, points[t], rubric.visibility_of(t), ["not graded"], False)
        for t in tensors
    ]
    return Score(0.0, rubric.total, f"error: {error}", groups, 0.0, 0.0)
