"""The known-bug catalogue as a second opinion: the smallest set of known bugs that reproduces the user's trajectory."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from comparisons.spec import Spec
from comparisons.tolerances import AUDIT_FLOOR
from comparisons.ulp import relative_distance
from manual.network import (
    in_document_order,
)
from manual.row.bugs import buggy_step, bugs_for
from manual.row.training import steps

__all__ = ["find_known_bugs"]


def _reproduces(bugs: tuple[str, ...], spec: Spec, context: dict[str, Any], user: np.ndarray, threshold: float) -> bool:
    step = buggy_step(spec.arch, bugs)
    for k, record in enumerate(
        steps(step, context["params"], context["X"], context["y"], context["order"], spec.learning_rate)
    ):
        values = [record.loss, *in_document_order(spec.arch, record.params)]
        if (relative_distance(values, user[k], AUDIT_FLOOR) > threshold).any():
            return False
    return True


def find_known_bugs(
    specs: dict[str, Spec], contexts: dict[str, dict[str, Any]], users: dict[str, np.ndarray], threshold: float
) -> list[str] | None:
    """The smallest set of known bugs that reproduces the user's trajectory under every init."""
    names = [bug.name for bug in bugs_for(next(iter(specs.values())).arch)]
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            if all(_reproduces(combo, specs[init], contexts[init], users[init], threshold) for init in specs):
                return list(combo)
    return None
