"""Run both sides from identical initial weights and the identical row sequence.

A trajectory is a DataFrame, one row per epoch: ``epoch``, ``loss`` and every
parameter under its document name (``w^1_11`` ... ``b_21``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparisons import cache
from comparisons.comparison import Comparison
from comparisons.datasets import to_arrays
from comparisons.errors import InputError
from comparisons.spec import RunSpec, random_params, row_order, seed_params
from manual import (
    Architecture,
    Params,
    Step,
    from_keras_weights,
    layerwise_step,
    parameter_names,
    to_keras_weights,
    train,
)
from manual.row.bugs import KNOWN_BUGS
from reference import runner
from reference.protocol import unnumbered

__all__ = [
    "IMPLEMENTATIONS",
    "compare",
    "dataset_arrays",
    "initial_params",
    "keras_initial_params",
    "keras_records",
    "keras_settings",
    "manual_step",
    "run_keras",
    "run_manual",
    "trajectory_frame",
]

IMPLEMENTATIONS = ("formulas", "layerwise")


def trajectory_frame(arch: Architecture, params: list[Params], losses: np.ndarray) -> pd.DataFrame:
    columns: dict[str, object] = {"epoch": np.arange(1, len(losses) + 1), "loss": losses}
    for key, index, name in parameter_names(arch):
        columns[name] = np.array([p[key][index] for p in params], dtype=losses.dtype)
    return pd.DataFrame(columns)


def initial_params(spec: RunSpec) -> Params:
    arch = spec.definition.arch
    if spec.init == "seed":
        return seed_params(arch, spec.dtype)
    if spec.init == "random":
        return random_params(arch, spec.dtype, spec.seed)
    return keras_initial_params(arch, spec.dtype, spec.seed)


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


def manual_step(spec: RunSpec, implementation: str) -> Step:
    """``formulas``, ``layerwise``, or a known bug's name (to see what a mismatch looks like)."""
    arch = spec.definition.arch
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


def dataset_arrays(spec: RunSpec, data: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    return to_arrays(spec.definition.data() if data is None else data, spec.definition, spec.dtype)


def run_manual(spec: RunSpec, step: Step, params: Params, data: pd.DataFrame | None = None) -> pd.DataFrame:
    X, y = dataset_arrays(spec, data)
    trajectory = train(step, params, X, y, row_order(spec, len(X)), spec.learning_rate)
    return trajectory_frame(spec.definition.arch, trajectory.params, trajectory.losses)


def run_keras(spec: RunSpec, params: Params, data: pd.DataFrame | None = None, path: str = "fast") -> pd.DataFrame:
    """Keras's trajectory. ``path``: ``fast`` (the default) or ``plain``, one ``fit`` per epoch; bit-identical."""
    if path not in ("fast", "plain"):
        raise ValueError(f"unknown Keras path {path!r}")
    arch = spec.definition.arch
    X, y = dataset_arrays(spec, data)
    order = row_order(spec, len(X))
    weights = to_keras_weights(arch, params)

    def compute() -> dict[str, np.ndarray]:
        result = runner.run(
            "trajectory",
            sizes=list(arch.sizes),
            activations=list(arch.activations),
            loss=arch.loss,
            dtype=spec.dtype,
            lr=spec.learning_rate,
            weights=weights,
            X=X,
            y=y,
            order=order,
            path=path,
        )
        frame = trajectory_frame(arch, keras_records(arch, result), result["losses"])
        return {"values": frame.drop(columns="epoch").to_numpy()}

    values = cache.fetch("keras-trajectory", keras_settings(spec, X, y, order, weights) | {"path": path}, compute)
    frame = pd.DataFrame(values["values"], columns=["loss", *(name for _, _, name in parameter_names(arch))])
    return pd.concat([pd.DataFrame({"epoch": np.arange(1, len(frame) + 1)}), frame], axis=1)


def keras_settings(
    spec: RunSpec, X: np.ndarray, y: np.ndarray, order: np.ndarray, weights: list[np.ndarray]
) -> dict[str, object]:
    """Everything a Keras run's result depends on, for the cache's key: the network, the
    dtype and learning rate, and the content of the rows, their order and the start."""
    arch = spec.definition.arch
    return {
        "sizes": arch.sizes,
        "activations": arch.activations,
        "loss": arch.loss,
        "dtype": spec.dtype,
        "learning_rate": spec.learning_rate,
        "inputs": cache.data_hash(X, y, order, *weights),
    }


def compare(spec: RunSpec, implementation: str = "formulas", data: pd.DataFrame | None = None) -> Comparison:
    """Both sides from the same initial weights over the same rows, diffed."""
    params = initial_params(spec)
    manual = run_manual(spec, manual_step(spec, implementation), params, data)
    return Comparison(spec=spec, manual=manual, keras=run_keras(spec, params, data))
