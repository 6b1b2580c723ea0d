"""A grading rubric: the points of a match, the points per parameter group, the deductions per
finding kind, what each group's test shows and to whom. Read from TOML (``--rubric FILE``).

The schema, every key optional::

    total = 10              # what a match scores
    verdict = 0             # of the total, the points only a match earns
    show_values = true      # the feedback shows the first divergence's values
    visibility = "visible"  # each group's test on Gradescope: visible, hidden, after_due_date, after_published

    [groups.W2]             # a tensor: W1, b1, W2, b2, ... (the document's W2 is the output weights)
    points = 4              # unlisted groups share what the total leaves, equally
    visibility = "hidden"

    [deductions]            # points off a divergence, per finding of the kind
    forward = 1

The default, out of 10: a match scores 10; a divergence 10 x (right groups / all groups), rounded
down to one decimal, less 1 per finding that names no parameter (a loss computed wrongly, a
hyperparameter off its usual value): then every group's updates are right and the run is still not
Keras's, and it never scores full marks; an error, a timeout or a memory limit 0, with the reason.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comparisons.audit.findings import KINDS as STEP_KINDS
from comparisons.errors import InputError
from manual.batch.optimizer_bugs import KINDS as OPTIMIZER_KINDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover  # Python 3.10: tomllib's backport
    import tomli as tomllib

__all__ = ["DEFAULT_RUBRIC", "FINDING_KINDS", "VISIBILITIES", "Group", "Rubric", "read_rubric", "read_rubric_text"]

MOST_POINTS = 1e6  # a rubric's numbers: finite, and far from where a sum of them loses its decimals
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, for each test
# findings that name no parameter: the updates may all be right, and the run is still not Keras's
NO_PARAMETER_KINDS = ("forward", "loss-after-update", "hyperparameter")
# every kind a finding can have: the step's diagnosis, the optimizer's, and its shapes' and defaults'
FINDING_KINDS = tuple(dict.fromkeys([*STEP_KINDS, *OPTIMIZER_KINDS, "other-parameter", "hyperparameter"]))


@dataclass(frozen=True)
class Group:
    """A group's points and its test's visibility, where the rubric sets them (None: the default)."""

    points: float | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class Rubric:
    total: float = 10.0
    verdict: float = 0.0
    show_values: bool = True
    visibility: str = "visible"
    groups: dict[str, Group] = field(default_factory=dict)
    deductions: dict[str, float] = field(default_factory=lambda: dict.fromkeys(NO_PARAMETER_KINDS, 1.0))

    def points(self, groups: list[str]) -> dict[str, float]:
        """Each group's points: as the rubric sets them, the rest of the total shared equally."""
        unset = [g for g in groups if self.groups.get(g, Group()).points is None]
        extra = sorted(set(self.groups) - set(groups))
        if extra:
            raise InputError(f"rubric: group {extra[0]!r} is not a tensor of this network ({', '.join(groups)})")
        set_points = sum(self.groups[g].points or 0.0 for g in groups if g not in unset)
        left = self.total - self.verdict - set_points
        if left < -1e-9 or (left > 1e-9 and not unset):
            raise InputError(
                f"rubric: the groups' points ({set_points:g}) and the verdict's ({self.verdict:g}) "
                f"must add up to the total ({self.total:g})"
            )
        share = left / len(unset) if unset else 0.0
        return {g: share if g in unset else float(self.groups[g].points or 0.0) for g in groups}

    def visibility_of(self, group: str) -> str:
        return self.groups.get(group, Group()).visibility or self.visibility


DEFAULT_RUBRIC = Rubric()

_TOP = {"total", "verdict", "show_values", "visibility", "groups", "deductions"}


def read_rubric(path: Path) -> Rubric:
    """The rubric in a TOML file; anything it cannot mean is one line naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read the rubric: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not a TOML rubric: {error}") from None
    return read_rubric_text(text, str(path))


def read_rubric_text(text: str, where: str) -> Rubric:
    """The rubric in TOML text; ``where``: what a message names it by."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{where}: not a TOML rubric: {error}") from None
    try:
        return _rubric(data)
    except InputError as error:
        raise InputError(f"{where}: {str(error).removeprefix('rubric: ')}") from None


def _rubric(data: dict[str, Any]) -> Rubric:
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise InputError(f"rubric: unknown key {unknown[0]!r} (it has {', '.join(sorted(_TOP))})")
    total = _number(data, "total", 10.0)
    verdict = _number(data, "verdict", 0.0)
    if total <= 0 or verdict > total:
        raise InputError("rubric: total must be above 0, and verdict at most the total")
    show = data.get("show_values", True)
    if not isinstance(show, bool):
        raise InputError(f"rubric: show_values must be true or false, not {show!r}")
    groups = {}
    for name, group in _table(data, "groups").items():
        if not isinstance(group, dict) or set(group) - {"points", "visibility"}:
            raise InputError(f"rubric: [groups.{name}] takes points and visibility only")
        groups[name] = Group(
            _number(group, "points", None, f"groups.{name}.points"),
            _visibility(group.get("visibility"), f"groups.{name}.visibility"),
        )
    deductions = {
        kind: _number(_table(data, "deductions"), kind, 0.0, f"deductions.{kind}")
        for kind in _table(data, "deductions")
    }
    unknown = sorted(set(deductions) - set(FINDING_KINDS))
    if unknown:
        raise InputError(f"rubric: deductions.{unknown[0]} is not a finding kind ({', '.join(FINDING_KINDS)})")
    return Rubric(
        total,
        verdict,
        show,
        _visibility(data.get("visibility"), "visibility") or "visible",
        groups,
        deductions if "deductions" in data else dict(DEFAULT_RUBRIC.deductions),
    )


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"rubric: {key} must be a table ([{key}])")
    return value


def _number(data: dict[str, Any], key: str, default: float | None, name: str | None = None) -> Any:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MOST_POINTS:
        raise InputError(f"rubric: {name or key} must be a number of points, 0 to {MOST_POINTS:g}, not {value!r}")
    return float(value)


def _visibility(value: Any, name: str) -> str | None:
    if value is not None and value not in VISIBILITIES:
        raise InputError(f"rubric: {name} must be one of {', '.join(VISIBILITIES)}, not {value!r}")
    return value
