"""The learner's optimizer run free on the audit's network: every update handed the true gradient.

At each step manual/'s backward gives the gradient at the learner's own parameters on the
step's batch, so a backprop mistake can neither hide an optimizer mistake nor be blamed for
one; the learner's update turns it into the next parameters. Every step's parameters before,
gradient and parameters after go back to the parent, which replays each convention of the
optimizer on the same gradients from the same parameters (comparisons.audit.optimizer_verdict).
Runs in the worker: numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from comparisons.audit import protocol
from comparisons.audit.optimizer_code import LearnerOptimizer, ShapeChangedError, learner_optimizer
from comparisons.audit.returns import UserCodeError
from manual.batch.training import backward, batch_rows, forward
from manual.network import Architecture, copy_params, in_document_order

__all__ = ["optimizer_result"]


def optimizer_result(job: dict[str, Any], module_name: str, progress: Callable[[str, str], None]) -> dict[str, Any]:
    """Per init, the learner's run; and the hyperparameters it ran with, and where each came from."""
    arch = Architecture(tuple(job["sizes"]), tuple(job["activations"]), job["loss"])
    runs, changed, learner = {}, [], None
    for init, context in job["runs"].items():
        learner = learner_optimizer(job, f"{module_name}_{init}", dict(job["given"]))  # a fresh state per init
        runs[init], change = _run(arch, learner, context, init, _progress_of(progress, init))
        changed.append(change)
    assert learner is not None
    hyper = np.array([learner.hyper.get(name, np.nan) for name in protocol.HYPER_NAMES], dtype=np.float64)
    source = np.array([protocol.SOURCES.index(learner.source.get(n, "")) for n in protocol.HYPER_NAMES], dtype=np.int64)
    return {
        protocol.OPTIMIZER_PART: runs,
        protocol.HYPER: hyper,
        protocol.SOURCE: source,
        protocol.LABEL: learner.label,
        protocol.CHANGED: np.array(changed, dtype=np.int64),
    }


def _progress_of(progress: Callable[[str, str], None], init: str) -> Callable[[str], None]:
    def write(where: str) -> None:
        progress(init, where)

    return write


def _run(
    arch: Architecture,
    learner: LearnerOptimizer,
    context: dict[str, Any],
    init: str,
    progress: Callable[[str], None],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The run, and protocol.CHANGED's rows for it: where the update gave back a tensor of another
    shape, the run stops at that step, and its rows from there on are NaN."""
    X, Y = context["X"], context["y"]
    batches = batch_rows(context["order"], context.get("batch", 1))
    per_epoch = len(batches) // len(context["order"])
    current = copy_params(context["params"])
    before, grads, after = [], [], []
    keys = [key for key, _ in arch.shapes()]
    changed = np.full((len(keys), protocol.CHANGED_WIDTH), -1, dtype=np.int64)
    for k, rows in enumerate(batches):
        where = f"(init {init}, step {k + 1}: epoch {k // per_epoch + 1}, batch {k % per_epoch + 1})"
        progress(where)
        outputs, _ = forward(arch, current, X[rows])
        g = backward(arch, current, outputs, Y[rows])
        try:
            new = learner.update(copy_params(current), copy_params(g))
        except ShapeChangedError as change:
            for key, shape, broadcast in change.changed:
                dims = list(shape[: protocol.CHANGED_WIDTH - 2])
                changed[keys.index(key), : 2 + len(dims)] = [k, int(broadcast), *dims]
            break
        except UserCodeError as error:
            raise UserCodeError(f"{error} {where}") from None
        before.append(in_document_order(arch, current))
        grads.append(in_document_order(arch, g))
        after.append(in_document_order(arch, new))
        current = new
    dtype = X.dtype
    P = sum(value.size for value in current.values())
    missing = np.full((len(batches) - len(before), P), np.nan, dtype=dtype)
    run = {
        "before": np.concatenate([np.array(before, dtype=dtype).reshape(-1, P), missing]),
        "grads": np.concatenate([np.array(grads, dtype=dtype).reshape(-1, P), missing]),
        "after": np.concatenate([np.array(after, dtype=dtype).reshape(-1, P), missing]),
    }
    return run, changed
