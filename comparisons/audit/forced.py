"""The teacher-forced steps as the diagnoses read them, and how far an implied gradient may stray.

Both diagnoses, the document networks' per scalar (diagnosis.py) and any
network's per tensor (network_diagnosis.py), judge the user's implied gradient
u = (old - new) / lr at every forced step against a hypothesis g with one
tolerance, and check the returned loss the same way. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from comparisons.audit.findings import Finding, ForcedSteps
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS, DIAGNOSIS_ATOL_EPS, DIAGNOSIS_RTOL
from comparisons.ulp import relative_distance

__all__ = ["Steps", "allowance", "loss_findings", "stack", "tolerance"]


@dataclass(frozen=True)
class Steps:
    """Every init's forced steps stacked: arrays of (N, ...) in float64, N = inits x steps."""

    S: np.ndarray
    T: np.ndarray
    N: np.ndarray
    where: list[tuple[str, int, int]]  # (init, epoch, step) of each row
    gscale: np.ndarray  # (N,) the step's largest true gradient: the scale its arithmetic noise is relative to


def stack(forced: list[ForcedSteps]) -> Steps:
    def cat(field: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(f, field), dtype=np.float64) for f in forced])

    T = cat("true_grads")
    where = [(f.init, int(e), int(s)) for f in forced for e, s in zip(f.epochs, f.steps, strict=True)]
    return Steps(S=cat("states"), T=T, N=cat("user_new"), where=where, gscale=np.abs(T).max(axis=1))


def allowance(dtype: str) -> tuple[float, float]:
    """(rtol, the update rounding's multiple of eps) of tolerances.py, for this dtype."""
    return DIAGNOSIS_RTOL[dtype], DIAGNOSIS_ATOL_EPS * float(np.finfo(dtype).eps)


def tolerance(
    size: np.ndarray, gscale: np.ndarray, start: np.ndarray, new: np.ndarray, lr: float, rtol: float, atol_eps: float
) -> np.ndarray:
    """How far an implied gradient may be from a hypothesis of magnitude ``size`` and still match it.

    Two noises: the gradient's own arithmetic, which a user may order differently
    (relative to the step's largest gradient, which the shared factors such as
    y - y_hat carry), and the rounding of new = start - lr g, which (start - new) / lr
    magnifies by 1 / lr.
    """
    return rtol * (size + gscale) + atol_eps * np.maximum(np.maximum(np.abs(start), np.abs(new)), AUDIT_FLOOR) / lr


def loss_findings(
    dtype: str,
    forced: list[ForcedSteps],
    stacked: Steps,
    wrong_loss: np.ndarray,
    loss_after: Callable[[int, np.ndarray], float],
) -> list[Finding]:
    """``forward`` or ``loss-after-update`` where the returned loss is not Keras's; ``loss_after(k, new)``
    is the loss of forced step k's batch at the parameters ``new`` (document order) the step returned."""
    rows = np.flatnonzero(wrong_loss)
    if not len(rows):
        return []
    user_loss = np.concatenate([f.user_loss for f in forced])
    keras_loss = np.concatenate([f.keras_loss for f in forced])
    after = np.array([loss_after(k, new) for k, new in enumerate(stacked.N)])
    first = int(rows[0])
    init, epoch, step = stacked.where[first]
    where = {"init": init, "epoch": epoch, "step": step}
    if not (relative_distance(user_loss, after, AUDIT_FLOOR) > AUDIT_THRESHOLDS[dtype]).any():
        message = (
            "the loss your step returns is the loss after its update; "
            "return the loss of the prediction made before the update, as Keras's History does"
        )
        return [Finding("loss-after-update", ["loss"], [], None, None, None, None, where, message)]
    message = (
        f"the loss your step returns differs from Keras's at the same parameters and row "
        f"(first at init {init}, epoch {epoch}, step {step}: yours {user_loss[first]:.10g}, "
        f"Keras's {keras_loss[first]:.10g}): the forward pass or the loss formula is wrong, "
        "and every update computed from that prediction inherits it; fix it first"
    )
    return [Finding("forward", ["loss"], [], None, None, None, None, where, message)]
