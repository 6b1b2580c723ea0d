"""The one record of a known mistake, for both stacks' catalogues (row/bugs.py, batch/bugs.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from manual.network import Architecture

__all__ = ["KnownBug"]

Implementation = TypeVar("Implementation")


@dataclass(frozen=True)
class KnownBug(Generic[Implementation]):
    """A known mistake: its name, what the code does (in the learner's words), where it applies,
    and the wrong code itself. The row stack's implementation makes a ``Step`` for a network;
    the batch stack's is the replaced ``Pieces`` of its trainer."""

    name: str
    diagnosis: str
    # (network, optimizer, batch size): the batch stack's OptimizerConfig; the row stack trains
    # one row at a time with plain SGD and asks with (network, None, 1)
    applies: Callable[[Architecture, Any, int], bool]
    implementation: Implementation
