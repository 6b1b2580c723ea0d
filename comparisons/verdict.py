"""The verdict rounding cannot fool: free-running first, and where a network's free-running
trajectories separate, every step from Keras's own state, with the conditioning measured.

The document's problems keep their claim, identical or within their ULP bound after
every epoch, free-running. A network of one's own that separates is judged step by
step (comparisons/per_step.py): a step that does not agree from the same state is a
MISMATCH; when every step agrees, what rounding decided is named instead:

- ``zero-gradient``: a gradient zero to working precision, which Adam, RMSprop and
  Adagrad, dividing by the gradient's own running size, turn into steps;
- ``branch``: a branch taken by rounding (MAE's sign where y_hat equals y, relu at 0);
- ``ill-conditioned``: Keras against itself, restarted from initial weights moved by
  one ULP, leaves the tolerance too;
- ``amplified``: Keras's trajectory is well-conditioned by that test, yet the steps'
  own last-bit differences, each within its bound, grow past the tolerance.
"""

from __future__ import annotations

import numpy as np

from comparisons.comparison import Comparison, Rounding, StepCheck
from comparisons.per_step import per_step
from comparisons.run import Data, compare_free_running, run_keras
from comparisons.spec import Spec
from manual import Params
from manual.batch.training import Pieces

__all__ = ["compare", "conditioning", "step_check"]

_ADAPTIVE = ("adam", "rmsprop", "adagrad")


def conditioning(spec: Spec, params: Params, data: Data | None = None) -> int | None:
    """The first epoch at which Keras, restarted from every initial weight moved by one ULP, leaves
    the tolerance of its unmoved run; None where it never does (well-conditioned)."""
    moved = {key: np.nextafter(value, np.inf).astype(value.dtype) for key, value in params.items()}
    return Comparison(spec, run_keras(spec, moved, data), run_keras(spec, params, data)).first_epoch_over


def step_check(
    spec: Spec, implementation: str | Pieces, params: Params, separates_from: int, data: Data | None = None
) -> StepCheck:
    """Every step from Keras's state, and, where all agree, what rounding decided."""
    steps = per_step(spec, implementation, params, data)
    if not steps.holds:
        return StepCheck(steps.worst, steps.first_over, ())
    found: list[Rounding] = []
    if spec.optimizer.name in _ADAPTIVE:
        for name, (epoch, step) in steps.zero_gradient.items():
            found.append(
                Rounding(
                    "zero-gradient",
                    name,
                    epoch,
                    step,
                    f"{name}: gradient zero to working precision from epoch {epoch}, step {step}; "
                    f"{spec.optimizer.name} turns rounding noise into steps; every step agrees from the same state",
                )
            )
    for branch, (epoch, step) in steps.branches.items():
        found.append(
            Rounding("branch", "", epoch, step, f"{branch} from epoch {epoch}, step {step}: decided by rounding")
        )
    ill = conditioning(spec, params, data)
    if ill is not None:
        message = f"Keras against itself, from initial weights moved by 1 ULP, separates from epoch {ill}"
        found.append(Rounding("ill-conditioned", "", ill, 0, message))
    else:
        message = (
            f"every step agrees from the same state while the free-running distance grows past the "
            f"tolerance from epoch {separates_from}"
        )
        found.append(Rounding("amplified", "", separates_from, 0, message))
    return StepCheck(steps.worst, None, tuple(found))


def compare(spec: Spec, implementation: str | None = None, data: Data | None = None) -> Comparison:
    """Both sides from the same initial weights over the same rows, diffed after every epoch; a network
    whose trajectories separate is judged step by step (``implementation`` None: the default)."""
    result, params, chosen = compare_free_running(spec, implementation, data)
    if spec.is_document or result.first_epoch_over is None:
        return result
    check = step_check(spec, chosen, params, result.first_epoch_over, data)
    return Comparison(result.spec, result.manual, result.keras, check)
