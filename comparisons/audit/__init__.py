"""The audit of a learner's own code against Keras, its diagnosis, and grading a class.

Importing the package imports nothing heavy: the worker that runs a learner's code
(``python -m comparisons.audit.worker``) loads only its own protocol.py, limits.py
and returns.py, the notebook reader and manual/. Each name below loads its module
when first used.

- model.py       the result: Contract, Divergence, AuditRun, Audit
- protocol.py    the job and the result the parent and the worker exchange
- worker.py      runs the learner's code under limits.py, checks what it returns (returns.py);
                 isolation.py starts it, sandbox.py in bubblewrap
- keras_steps.py Keras's per-step record; divergence.py where the learner's parts from it
- findings.py    what the diagnosis reads and says; diagnosis.py which parameter's update is wrong, and how
- known_bugs.py  the catalogue's second opinion
- auditor.py     the audit itself; api.py ``audit_step`` for Jupyter
- render/        an audit and a graded class as text, HTML and JSON, each said once
- grade.py       a class in one run, into a gradebook
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers
    from comparisons.audit.auditor import audit, check_auditable, check_source, measure
    from comparisons.audit.isolation import stop_all_children
    from comparisons.audit.keras_steps import keras_side
    from comparisons.audit.model import DEFAULT_MEMORY_MIB, Audit, AuditRun, Contract, Divergence
    from comparisons.audit.render.json import audit_json
    from comparisons.audit.render.text import audit_text

_WHERE = {
    "audit": "auditor",
    "check_auditable": "auditor",
    "check_source": "auditor",
    "measure": "auditor",
    "stop_all_children": "isolation",
    "keras_side": "keras_steps",
    "DEFAULT_MEMORY_MIB": "model",
    "Audit": "model",
    "AuditRun": "model",
    "Contract": "model",
    "Divergence": "model",
    "audit_json": "render.json",
    "audit_text": "render.text",
}

__all__ = [
    "DEFAULT_MEMORY_MIB",
    "Audit",
    "AuditRun",
    "Contract",
    "Divergence",
    "audit",
    "audit_json",
    "audit_text",
    "check_auditable",
    "check_source",
    "keras_side",
    "measure",
    "stop_all_children",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'comparisons.audit' has no attribute {name!r}")
    return getattr(importlib.import_module(f"comparisons.audit.{_WHERE[name]}"), name)
