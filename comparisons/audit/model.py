"""What an audit finds: the contract its code is called by, and per init where it parts from Keras."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from comparisons.audit.findings import Finding
from comparisons.audit.layouts import DEFAULT_LAYOUT
from comparisons.audit.render.html import audit_html
from comparisons.audit.render.json import audit_json
from comparisons.audit.render.text import audit_text
from comparisons.audit.scored import Scored
from comparisons.notebook import NotebookCode

__all__ = ["DEFAULT_MEMORY_MIB", "Audit", "AuditRun", "Contract", "Divergence"]


DEFAULT_MEMORY_MIB = 2048


@dataclass(frozen=True)
class Contract:
    """How the user's code is called: their own ``step``, or the tutorial notebooks' forward
    and update functions; in a layout of comparisons.audit.layouts, or None: the one in
    which the learner's first step runs."""

    kind: str = "step"  # step | tutorial
    func: str = "step"
    forward: str = "L_layer_forward"
    update: str = "update_parameters"
    layout: str | None = None  # keras | columns | out-in

    @property
    def label(self) -> str:
        """What the user's code is called in messages: ``step`` or ``L_layer_forward/update_parameters``."""
        return self.func if self.kind == "step" else f"{self.forward}/{self.update}"

    def job(self) -> dict[str, str]:
        layout = self.layout or DEFAULT_LAYOUT[self.kind]
        return {"contract": self.kind, "func": self.func, "forward": self.forward, "update": self.update} | {
            "layout": layout
        }


@dataclass(frozen=True)
class Divergence:
    init: str
    epoch: int  # 1-based
    step: int  # 1-based, within the epoch
    row: int  # 0-based index into the dataset (a batch's first row)
    row_values: dict[str, float]
    parameters: list[dict[str, Any]]  # name, array, index, user, keras, distance
    batch: list[int] = field(default_factory=list)  # a step's rows, where it takes more than one

    @property
    def batch_text(self) -> str:
        """The step's rows, the first eight of them."""
        rows = self.batch
        return ", ".join(map(str, rows[:8])) + (f" ... ({len(rows)} rows)" if len(rows) > 8 else "")


@dataclass(frozen=True)
class AuditRun:
    init: str
    max_distance: float
    divergence: Divergence | None  # the free-running trajectories part
    forced_divergence: Divergence | None = None  # from Keras's state, the first step whose update is not Keras's

    @property
    def verdict(self) -> str:
        return "match" if self.divergence is None and self.forced_divergence is None else "diverged"


@dataclass(frozen=True)
class Audit(Scored):
    path: str
    func: str
    problem: str
    dtype: str
    epochs: int
    order: str
    threshold: float
    runs: list[AuditRun]
    findings: list[Finding] = field(default_factory=list)
    bugs: list[str] | None = field(default=None)  # the known bugs that reproduce the trajectory
    notebook: NotebookCode | None = None  # what of a notebook was run
    # what the audit chose, and why, in the learner's terms: the functions, the cells, the layout
    notes: list[str] = field(default_factory=list)
    functions: dict[str, str] = field(default_factory=dict)  # role -> the learner's function
    layout: str = "keras"
    # per init, per step: "distance" (the largest over the loss and every parameter), "user_loss", "keras_loss"
    traces: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)
    tensors: list[str] = field(default_factory=list)  # the network's, in order: W1, b1, ... (the rubric's groups)

    def __str__(self) -> str:
        return audit_text(self)

    def __repr__(self) -> str:
        return f"<Audit {self.verdict}: {self.path}:{self.func}, {self.problem}, {self.dtype}, inits {self.inits}>"

    def to_json(self) -> dict[str, Any]:
        return audit_json(self)

    def _repr_html_(self) -> str:
        return audit_html(self)

    @property
    def verdict(self) -> str:
        return "match" if all(r.verdict == "match" for r in self.runs) else "diverged"

    @property
    def first_divergence(self) -> Divergence | None:
        """Where the trajectories part; failing that, the first step whose update is not Keras's."""
        free = next((r.divergence for r in self.runs if r.divergence is not None), None)
        return free or next((r.forced_divergence for r in self.runs if r.forced_divergence is not None), None)

    @property
    def inits(self) -> list[str]:
        return [r.init for r in self.runs]
