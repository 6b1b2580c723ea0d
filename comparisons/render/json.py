"""The main job's runs as one JSON object (``python -m comparisons --json``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from comparisons.render.sentences import matched
from reference import numerics

if TYPE_CHECKING:  # read, never built, here
    from comparisons.comparison import Comparison

__all__ = ["comparisons_json"]


def _run(result: Comparison) -> dict[str, Any]:
    spec, check = result.spec, result.step_check
    entry: dict[str, Any] = {
        "label": spec.label,
        "problem": spec.problem,
        "network": None if spec.is_document else spec.network,
        "dtype": spec.dtype,
        "order": spec.order,
        "init": spec.init,
        "epochs": spec.epochs,
        "verdict": result.verdict,
        "matches": result.matches,
        "max_ulp_weights": result.max_ulp_weights,
        "max_ulp_loss": result.max_ulp_loss,
        "allowed": {"weights": result.tolerance.weights, "loss": result.tolerance.loss},
        "first_epoch_over": result.first_epoch_over,  # free-running
        "per_step": None,  # judged only where a network's free-running trajectories separate
        "rounding": [],
    }
    if check is not None:
        over = check.first_over
        entry["per_step"] = {
            "holds": check.holds,
            "worst": check.worst,  # the largest distance over its bound, every step and parameter
            "first_over": None if over is None else {"epoch": over[0], "step": over[1], "parameter": over[2]},
        }
        entry["rounding"] = [
            {
                "parameter": r.parameter or None,
                "kind": r.kind,
                "epoch": r.epoch,
                "step": r.step or None,
                "message": r.message,
            }
            for r in check.rounding
        ]
    return entry


def comparisons_json(results: list[Comparison], settings: str) -> str:
    """Every run's verdict, what it rests on and, where rounding decided something, what."""
    document = {
        "settings": settings,
        "runs": [_run(r) for r in results],
        "summary": matched(results),
        "numerics": numerics.key(),  # Keras's side was computed (or cached) under this configuration
    }
    return json.dumps(document, indent=2)
