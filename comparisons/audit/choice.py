"""Which of a notebook's definitions, and which layout, the audit takes: decided from each
candidate's first step, in the child (which then runs it) and again in the parent (which says why).

The child runs the learner's first step for every group of definitions (a notebook that
redefines its functions holds one group per definition), in every layout tried, on the
problem's first step and, where the contract is the tutorial's, on the other problem's.
A loss is NaN where the step did not run. The group taken is the last whose loss is
Keras's for the problem; failing that, none if some group's loss is the other
problem's (the notebook's functions are that problem's), else the last group, as the
notebook leaves its definitions. The layout taken is the only one that gives Keras's
loss, or else the only one that runs; where several do, the contract's own if it is
among them, else the first of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons.audit.layouts import DEFAULT_LAYOUT

__all__ = ["Choice", "choose", "choose_for", "close"]


@dataclass(frozen=True)
class Choice:
    group: int | None  # None: no group is the problem's, and one is the other problem's
    layout: str
    runs: tuple[str, ...]  # the layouts in which the group's first step ran
    ambiguous: bool  # several layouts fit equally: the contract's own was taken
    matches: tuple[bool, ...]  # per group: its loss is Keras's for the problem
    others: tuple[bool, ...]  # per group: its loss is Keras's for the other problem


def close(actual: np.ndarray, expected: np.ndarray, threshold: float, floor: float) -> np.ndarray:
    """The audit's relative distance within its threshold; NaN (a step that did not run) never is."""
    with np.errstate(invalid="ignore"):
        return np.abs(actual - expected) <= threshold * np.maximum(np.abs(expected), floor)


def choose(
    losses: np.ndarray, expected: np.ndarray, threshold: float, floor: float, layouts: list[str], default: str
) -> Choice:
    """``losses``: (groups, layouts, problems), the problem's first, then the other's where tried."""
    ran = ~np.isnan(losses[:, :, 0])
    fits = close(losses, expected, threshold, floor)
    matches = np.asarray(fits[:, :, 0].any(axis=1))
    others = np.asarray(fits[:, :, 1].any(axis=1)) if losses.shape[2] > 1 else np.zeros(len(losses), dtype=bool)
    if matches.any():
        group: int | None = int(np.flatnonzero(matches)[-1])
        usable = fits[group, :, 0]
    elif others.any() and len(losses) > 1:  # one group: audited, and the parent says whose it is
        group, usable = None, np.zeros(len(layouts), dtype=bool)
    else:
        group = len(losses) - 1
        usable = ran[group]
    candidates = [layout for layout, ok in zip(layouts, usable, strict=True) if ok]
    if len(candidates) == 1:
        layout, ambiguous = candidates[0], False
    elif candidates:
        layout, ambiguous = (default if default in candidates else candidates[0]), True
    else:  # none runs: the contract's own, whose error the run then reports
        layout, ambiguous = (default if default in layouts else layouts[0]), False
    runs = tuple(layout for layout, ok in zip(layouts, ran[-1 if group is None else group], strict=True) if ok)
    return Choice(group, layout, runs, ambiguous, tuple(bool(m) for m in matches), tuple(bool(o) for o in others))


def choose_for(probe: dict[str, Any], losses: np.ndarray, contract: str) -> Choice:
    """The choice a job's probe (comparisons.audit.protocol) makes from its first steps' losses:
    the child's, which then runs it, and the parent's, which says why, are this one call."""
    expected = np.asarray(probe["expected"])
    return choose(losses, expected, probe["threshold"], probe["floor"], probe["layouts"], DEFAULT_LAYOUT[contract])
