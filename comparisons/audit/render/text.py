"""The audit and a graded class as the CLI prints them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from comparisons.audit.render import sentences as say

if TYPE_CHECKING:  # read, never built, here: the audit renders itself through this package
    from comparisons.audit.grade import Grade
    from comparisons.audit.model import Audit
    from comparisons.audit.optimizer_audit import OptimizerAudit

__all__ = ["audit_text", "grades_text", "optimizer_text"]

# the first divergence's columns: widths, and which are numbers (right-aligned)
_WIDTHS = (8, 9, 24, 24, 10)
_NUMBERS = (False, False, True, True, True)


def _parameter_line(cells: list[str]) -> str:
    return "  " + " ".join(
        c.rjust(w) if number else c.ljust(w) for c, w, number in zip(cells, _WIDTHS, _NUMBERS, strict=True)
    )


def audit_text(result: Audit) -> str:
    lines = [say.headline(result)]
    lines += [line for line in [say.notebook(result)] if line is not None]
    lines += say.notes(result)
    if result.first_divergence is not None:
        lines += _diverged(result)
    lines += [line for line in [say.seed_note(result)] if line is not None]
    return "\n".join(lines)


def _diverged(result: Audit) -> list[str]:
    lines = [f"  init {r.init + ':':<7} {say.init_state(r)} (max distance {r.max_distance:.3g})" for r in result.runs]
    lines.append(say.first_divergence(result))
    lines.append(_parameter_line(say.PARAMETER_COLUMNS))
    lines += [_parameter_line(say.parameter_cells(p)) for p in say.shown_parameters(result)]
    lines += [f"  {line}" for line in [say.more_parameters(result)] if line is not None]
    lines += [line for line in [say.unseen(result)] if line is not None]
    if result.findings:
        lines.append(say.DIAGNOSIS)
        for n, f in enumerate(result.findings, start=1):
            lines += [f"  {n}. {f.kind}, {say.first_at(f)}", f"     {f.message}"]
    else:
        lines.append(say.no_finding(result))
    lines += [line for line in [say.known_bugs(result)] if line is not None]
    return lines


def grades_text(grades: list[Grade], submissions: int, settings: str) -> str:
    """A line per graded submission (its verdict, and its findings' kinds or its error), then the counts."""
    width = max(len(g.path) for g in grades) if grades else 0
    lines = []
    for g in grades:
        detail = g.error if g.audit is None else ", ".join(dict.fromkeys(f.kind for f in g.audit.findings))
        points = "" if g.score is None else f"{g.score.points:g}/{g.score.max_points:g}"
        lines.append(f"{g.path:<{width}}  {g.verdict:<8}  {points:>7}  {detail}".rstrip())
    counts = {v: sum(g.verdict == v for g in grades) for v in ("match", "diverged", "error")}
    lines.append(
        f"{len(grades)} of {submissions} submissions graded ({settings}): "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
    )
    return "\n".join(lines)


def optimizer_text(result: OptimizerAudit) -> str:
    """A learner's optimizer: the convention it is, or its findings."""
    lines = [say.optimizer_headline(result), say.optimizer_hyper(result)]
    lines += [line for line in [say.notebook_of(result.notebook)] if line is not None]
    lines += [line for line in [say.keras_difference(result)] if line is not None]
    if result.findings:
        lines.append(say.OPTIMIZER_DIAGNOSIS)
        for n, f in enumerate(result.findings, start=1):
            lines += [f"  {n}. {f.kind}, {say.optimizer_first(f)}", f"     {f.message}"]
    return "\n".join(lines)
