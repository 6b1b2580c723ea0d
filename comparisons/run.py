"""Run both sides of any ``Spec`` from identical initial weights over the identical row sequence.

One path for every run: the rows (comparisons/data.py), the initial weights,
Keras's trajectory (reference/ trains every network with the same loop, as a
job of reference/jobs.py) and the trajectory frame. Only the manual side has
two stacks: a preset of the document's problems is trained by an exact per-row
implementation of manual/row/ (``formulas``, ``layerwise``, or a known bug), a
network of one's own by manual/batch/ (``minibatch``, or a known-bad variant).

A trajectory is a DataFrame, one row per epoch: ``epoch``, ``loss`` and every
parameter under its document name (``w^1_11`` ... ``b_21``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

from comparisons import cache
from comparisons.comparison import Comparison
from comparisons.data import spec_arrays
from comparisons.errors import InputError
from comparisons.spec import Spec, random_params, row_order, seed_params
from manual import (
    Architecture,
    Params,
    Step,
    Trajectory,
    from_keras_weights,
    layerwise_step,
    parameter_names,
    to_keras_weights,
    train,
)
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.training import KERAS_PIECES, Pieces, train_batches
from manual.row.bugs import KNOWN_BUGS
from reference import runner
from reference.protocol import unnumbered

__all__ = [
    "IMPLEMENTATIONS",
    "Data",
    "compare_free_running",
    "default_implementation",
    "initial_params",
    "keras_initial_params",
    "keras_job",
    "keras_records",
    "keras_run",
    "keras_settings",
    "manual_pieces",
    "manual_step",
    "run_keras",
    "run_manual",
    "trajectory_frame",
]

IMPLEMENTATIONS = ("formulas", "layerwise")  # the exact per-row ones, besides the known bugs
Data = tuple[np.ndarray, np.ndarray]  # (X, Y) of a CSV, float64; None everywhere: the spec's own rows
Implementation = str | Step | Pieces  # by name, or itself
Trainer = Callable[[Params, np.ndarray, np.ndarray, np.ndarray], Trajectory]  # (params, X, Y, order)


def trajectory_frame(arch: Architecture, params: list[Params], losses: np.ndarray) -> pd.DataFrame:
    columns: dict[str, object] = {"epoch": np.arange(1, len(losses) + 1), "loss": losses}
    for key, index, name in parameter_names(arch):
        columns[name] = np.array([p[key][index] for p in params], dtype=losses.dtype)
    return pd.DataFrame(columns)


def initial_params(spec: Spec) -> Params:
    if spec.init == "seed":
        return seed_params(spec.arch, spec.dtype)
    if spec.init == "random":
        return random_params(spec.arch, spec.dtype, spec.seed)
    return keras_initial_params(spec.arch, spec.dtype, spec.seed)


def keras_initial_params(arch: Architecture, dtype: str, seed: int) -> Params:
    """Keras's own initializers (Glorot-uniform kernels, zero biases), seeded, copied to the manual side."""

    def compute() -> dict[str, np.ndarray]:
        weights = runner.run(
            "initial_weights", sizes=list(arch.sizes), activations=list(arch.activations), dtype=dtype, seed=seed
        )
        return from_keras_weights(arch, unnumbered("w", weights))

    settings = {"sizes": arch.sizes, "activations": arch.activations, "dtype": dtype, "seed": seed}
    return cache.fetch("keras-initial-weights", settings, compute)


def keras_records(arch: Architecture, arrays: dict[str, np.ndarray]) -> list[Params]:
    """A job's weights (``w0``, ``w1``, ..., each stacked over the records), one Params per record."""
    stacked = unnumbered("w", arrays)
    return [from_keras_weights(arch, [w[k] for w in stacked]) for k in range(len(stacked[0]))]


def default_implementation(spec: Spec) -> str:
    return "formulas" if spec.is_document else "minibatch"


def manual_step(spec: Spec, implementation: str) -> Step:
    """A preset's per-row step: ``formulas``, ``layerwise``, or a known bug's name (what a mismatch looks like)."""
    arch = spec.arch
    if implementation == "formulas":
        return spec.definition.formula_step
    if implementation == "layerwise":
        return layerwise_step(arch)
    if implementation in KNOWN_BUGS:
        bug = KNOWN_BUGS[implementation]
        if not bug.applies(arch, None, 1):
            raise InputError(f"known bug {implementation!r} does not apply to the {spec.problem} problem")
        return bug.implementation(arch)
    raise InputError(f"unknown implementation {implementation!r}")


def manual_pieces(spec: Spec, implementation: str, rows: int) -> Pieces:
    """A network's batch trainer: ``minibatch`` (the correct one) or a known-bad variant that applies
    to the spec trained on ``rows`` rows (a batch is never more than them)."""
    if implementation == "minibatch":
        return KERAS_PIECES
    if implementation not in MINIBATCH_BUGS:
        choices = ", ".join(["minibatch", *MINIBATCH_BUGS])
        raise InputError(f"unknown implementation {implementation!r} for a network (choose from {choices})")
    bug = MINIBATCH_BUGS[implementation]
    if not bug.applies(spec.arch, spec.optimizer, min(spec.batch_size, rows)):
        raise InputError(f"known bug {implementation!r} ({bug.diagnosis}) does not apply to {spec.network}")
    return bug.implementation


def _trainer(spec: Spec, implementation: Implementation, rows: int) -> Trainer:
    """The manual side: a preset's exact per-row stack, or a network's batch stack. ``implementation``:
    a name, or the step (a preset's) or the pieces (a network's) themselves, as tests give them."""
    if spec.is_document:
        step = manual_step(spec, implementation) if isinstance(implementation, str) else cast(Step, implementation)
        return lambda params, X, Y, order: train(step, params, X, Y[:, 0], order, spec.learning_rate)
    if isinstance(implementation, str):
        implementation = manual_pieces(spec, implementation, rows)
    pieces = cast(Pieces, implementation)
    return lambda params, X, Y, order: train_batches(
        spec.arch, spec.optimizer, params, X, Y, order, spec.batch_size, pieces
    )


def run_manual(spec: Spec, implementation: Implementation, params: Params, data: Data | None = None) -> pd.DataFrame:
    X, Y = spec_arrays(spec, data)
    trajectory = _trainer(spec, implementation, len(X))(params, X, Y, row_order(spec, len(X)))
    return trajectory_frame(spec.arch, trajectory.params, trajectory.losses)


def keras_job(spec: Spec) -> dict[str, object]:
    """The arguments every Keras job on this spec shares: its layers, loss, dtype and optimizer."""
    return {
        "sizes": list(spec.layers),
        "activations": list(spec.activations),
        "loss": spec.loss,
        "dtype": spec.dtype,
        "optimizer": spec.optimizer.name,
        "arguments": spec.optimizer.keras_arguments(),
    }


def keras_settings(
    spec: Spec, X: np.ndarray, Y: np.ndarray, order: np.ndarray, weights: list[np.ndarray]
) -> dict[str, object]:
    """Everything a Keras run's result depends on, for the cache's key: the network, the dtype,
    the optimizer and batch size, and the content of the rows, their order and the start."""
    return {
        "sizes": spec.layers,
        "activations": spec.activations,
        "loss": spec.loss,
        "dtype": spec.dtype,
        "optimizer": repr(spec.optimizer),
        "batch_size": spec.batch_size,
        "inputs": cache.data_hash(X, Y, order, *weights),
    }


def keras_run(spec: Spec, params: Params, data: Data | None = None) -> tuple[dict[str, object], dict[str, object]]:
    """A Keras run of this spec from ``params``: its job's arguments, and the cache's settings for them."""
    X, Y = spec_arrays(spec, data)
    order = row_order(spec, len(X))
    weights = to_keras_weights(spec.arch, params)
    job = keras_job(spec) | {"X": X, "Y": Y, "order": order, "batch_size": spec.batch_size, "weights": weights}
    return job, keras_settings(spec, X, Y, order, weights)


def run_keras(spec: Spec, params: Params, data: Data | None = None, path: str = "fast") -> pd.DataFrame:
    """Keras's trajectory: ``fast`` (one compiled loop) or ``plain`` (one ``fit`` per epoch); bit-identical."""
    if path not in ("fast", "plain"):
        raise ValueError(f"unknown Keras path {path!r}")
    arch = spec.arch
    job, settings = keras_run(spec, params, data)

    def compute() -> dict[str, np.ndarray]:
        result = runner.run("trajectory", **job, path=path)
        # plain arrays in document order (Keras's weight order, each raveled), never a frame's columns
        stacked = unnumbered("w", result)
        return {"values": np.column_stack([result["losses"], *(w.reshape(len(w), -1) for w in stacked)])}

    values = cache.fetch("keras-trajectory", settings | {"path": path}, compute)
    table = pd.DataFrame(values["values"], columns=["loss", *(name for _, _, name in parameter_names(arch))])
    return pd.concat([pd.DataFrame({"epoch": np.arange(1, len(table) + 1)}), table], axis=1)


def compare_free_running(
    spec: Spec, implementation: str | None = None, data: Data | None = None
) -> tuple[Comparison, Params, str]:
    """Both sides from the same initial weights over the same rows, diffed after every epoch;
    ``implementation`` None: the preset's formulas, or the batch trainer for a network. With the
    initial weights and the implementation chosen, for the per-step check (comparisons/verdict.py)."""
    params = initial_params(spec)
    chosen = implementation or default_implementation(spec)
    manual = run_manual(spec, chosen, params, data)
    return Comparison(spec=spec, manual=manual, keras=run_keras(spec, params, data)), params, chosen
