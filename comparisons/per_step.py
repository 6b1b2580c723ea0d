"""Each step of the manual side from Keras's own full state, against Keras's state after it.

A free-running comparison can be fooled by rounding: where a gradient is zero to
working precision, where an adaptive optimizer divides by the gradient's own
size, or where the trajectory amplifies last-bit differences, two correct sides
separate. One step from the same state cannot hide a bug, and its rounding can
be bounded: comparisons/step_bound.py derives the bound for every step from the
state, the batch and the optimizer's formula, at any learning rate.

Step k starts from Keras's weights and optimizer slots after step k - 1 (step 1
from the initial weights and the manual optimizer's own fresh slots, so that a
wrong start of a slot is caught too) and is compared with Keras's weights after
step k, in ULPs with the tolerance's floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comparisons import cache
from comparisons.data import spec_arrays
from comparisons.run import Data, keras_records, keras_run, manual_pieces
from comparisons.spec import Spec, row_order
from comparisons.step_bound import StepBound, slot_bound, step_bound
from comparisons.ulp import ulp_distance
from manual import Params, parameter_names
from manual.batch.training import Pieces, StepState, batch_rows, step_from
from reference import runner
from reference.protocol import unnumbered

__all__ = ["PerStep", "keras_states", "per_step"]


@dataclass(frozen=True)
class PerStep:
    """The per-step check of one run: ``worst`` is the largest distance / bound over every step and
    parameter (at most 1 where every step agrees); ``first_over`` the first step that does not agree,
    as (epoch, step, parameter); ``zero_gradient`` and ``branches`` where rounding decided the
    mathematics, each first seen at (epoch, step), up to the first step that does not agree."""

    steps: int
    worst: float
    first_over: tuple[int, int, str] | None
    zero_gradient: dict[str, tuple[int, int]]
    branches: dict[str, tuple[int, int]]

    @property
    def holds(self) -> bool:
        return self.first_over is None


def keras_states(
    spec: Spec, params: Params, data: Data | None = None
) -> tuple[list[Params], list[dict[str, Params]], np.ndarray]:
    """Keras's weights and optimizer slots (by the manual side's names) after every step, and each
    step's batch loss (before its update)."""
    arch = spec.arch
    job, settings = keras_run(spec, params, data)
    arrays = cache.fetch("keras-steps-with-state", settings, lambda: runner.run("steps_with_state", **job))
    after = keras_records(arch, arrays)
    names = sorted({name.split("_")[1] for name in arrays if name.startswith("slot_")})
    keys = [key for key, _ in arch.shapes()]
    slots = [
        {name: dict(zip(keys, (w[k] for w in unnumbered(f"slot_{name}_", arrays)), strict=True)) for name in names}
        for k in range(len(after))
    ]
    return after, slots, arrays["losses"]


def _rest_of_the_state(
    spec: Spec,
    step: StepState,
    bound: StepBound,
    keras_slots: dict[str, Params],
    keras_loss: np.floating,
    where: tuple[int, int],
    k: int,
) -> tuple[int, int, str] | None:
    """Besides the weights, a step leaves the optimizer's slots and step count, and reports the
    batch's loss: each against Keras's, so that a slot never written back, a count never advanced or
    a loss reported wrong cannot hide behind the next step's start from Keras's state."""
    if step.iterations != k + 1:
        return (*where, f"the optimizer's step count ({step.iterations}, Keras's {k + 1})")
    if sorted(step.slots) != sorted(keras_slots):
        return (*where, f"the optimizer's slots ({', '.join(sorted(step.slots)) or 'none'})")
    g, e_g = bound.gradients, bound.errors
    for slot, values in keras_slots.items():
        for key, keras_value in values.items():
            allowed = slot_bound(spec.optimizer, spec.dtype, g[key], e_g[key], slot, keras_value)
            allowed = allowed + np.spacing(np.abs(keras_value))  # the result's own last place
            if not (np.abs(step.slots[slot][key].astype(np.float64) - keras_value) <= allowed).all():
                return (*where, f"the optimizer's slot {slot} of {key}")
    loss = float(ulp_distance(step.loss, keras_loss, spec.dtype, spec.tolerance.floor))
    if not loss <= spec.tolerance.loss:  # one batch's loss from the same weights: the run's loss allowance
        return (*where, "loss")
    return None


def per_step(spec: Spec, implementation: str | Pieces, params: Params, data: Data | None = None) -> PerStep:
    """Every step of the manual batch trainer (or a known-bad variant) from Keras's state before it."""
    arch = spec.arch
    X, Y = spec_arrays(spec, data)
    pieces = manual_pieces(spec, implementation, len(X)) if isinstance(implementation, str) else implementation
    batches = batch_rows(row_order(spec, len(X)), spec.batch_size)
    per_epoch = len(batches) // spec.epochs
    after, slots, losses = keras_states(spec, params, data)
    floor = spec.tolerance.floor
    names = {(key, index): name for key, index, name in parameter_names(arch)}
    worst, first_over = 0.0, None
    zero_gradient: dict[str, tuple[int, int]] = {}
    branches: dict[str, tuple[int, int]] = {}
    state, state_slots = params, None  # step 1: the manual optimizer's own fresh slots
    for k, rows in enumerate(batches):
        where = (k // per_epoch + 1, k % per_epoch + 1)
        step = step_from(arch, spec.optimizer, state, state_slots, k, X[rows], Y[rows], pieces)
        bound = step_bound(arch, spec.optimizer, state, state_slots or {}, k, X[rows], Y[rows], floor)
        for key, _ in arch.shapes():  # in document order, so the first named is the document's first
            ratio = ulp_distance(step.params[key], after[k][key], spec.dtype, floor) / bound.ulps[key]
            worst = max(worst, float(np.nanmax(ratio)))
            if first_over is None and not (ratio <= 1).all():  # NaN: no bound holds
                first_over = (*where, names[key, tuple(int(i) for i in np.argwhere(~(ratio <= 1))[0])])
            for index in np.argwhere(bound.zero_gradient[key]):
                zero_gradient.setdefault(names[key, tuple(int(i) for i in index)], where)
        if first_over is None:
            first_over = _rest_of_the_state(spec, step, bound, slots[k], losses[k], where, k)
        if first_over is not None:  # a step that does not agree decides the verdict: nothing after it can
            break
        for branch in bound.branches:
            branches.setdefault(branch, where)
        state, state_slots = after[k], slots[k]
    return PerStep(len(batches), worst, first_over, zero_gradient, branches)
