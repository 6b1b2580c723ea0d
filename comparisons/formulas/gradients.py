"""The true partial derivatives a sheet is judged against, at many random points of a network.

Computed two independent ways that must agree before any verdict: ``tf.GradientTape``
through the Keras model, and central finite differences of the numpy forward pass in float64.
"""

from __future__ import annotations

import numpy as np

from comparisons import cache
from comparisons.cache import data_hash
from manual import Architecture, Params, from_keras_weights, in_document_order, parameter_names, to_keras_weights
from manual.row.layerwise import forward
from manual.row.losses import LOSSES
from reference import runner
from reference.protocol import unnumbered

__all__ = ["POINTS", "environment", "finite_differences", "points", "true_gradients"]

FD_RTOL = 1e-5  # central differences with h ~ 1e-6 are good to ~1e-9 here


POINTS = 64


def points(arch: Architecture, seed: int) -> tuple[list[Params], np.ndarray, np.ndarray]:
    """Random weights (N(0, 0.8^2)), inputs (U(-2, 2)) and targets: continuous, so no
    coincidence of a wrong formula with the right one at y in {0, 1}."""
    rng = np.random.default_rng(seed)
    params = [{key: rng.normal(0.0, 0.8, size=shape) for key, shape in arch.shapes()} for _ in range(POINTS)]
    X = rng.uniform(-2.0, 2.0, size=(POINTS, arch.sizes[0]))
    y = (
        rng.uniform(0.05, 0.95, size=POINTS)
        if arch.loss == "binary_crossentropy"
        else rng.normal(0.0, 2.0, size=POINTS)
    )
    return params, X, y


def environment(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    names = parameter_names(arch)
    env: dict[str, np.ndarray] = {name: np.array([p[key][index] for p in params]) for key, index, name in names}
    outputs = [forward(arch, p, x) for p, x in zip(params, X, strict=True)]
    for k in range(1, arch.layers + 1):
        for j in range(arch.sizes[k]):
            env[f"O_{k}{j + 1}"] = np.array([o[k][j] for o in outputs])
    env["y_hat"] = env[f"O_{arch.layers}1"]
    for i in range(arch.sizes[0]):
        env[f"x_{i + 1}"] = X[:, i]
    env["y"] = y
    return env


def true_gradients(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """dL/dparameter at every point by tf.GradientTape, checked against central differences."""

    names = parameter_names(arch)
    states = [np.stack(weights) for weights in zip(*(to_keras_weights(arch, p) for p in params), strict=True)]

    def compute() -> dict[str, np.ndarray]:
        job = {"sizes": list(arch.sizes), "activations": list(arch.activations), "loss": arch.loss}
        stacked = unnumbered("g", runner.run("gradients", **job, states=states, X=X, Y=y))
        return {
            "tape": np.array(
                [in_document_order(arch, from_keras_weights(arch, [g[k] for g in stacked])) for k in range(len(params))]
            )
        }

    settings = {
        "sizes": arch.sizes,
        "activations": arch.activations,
        "loss": arch.loss,
        "inputs": data_hash(X, y, *states),
    }
    tape = cache.fetch("keras-gradients", settings, compute)["tape"]
    fd = finite_differences(arch, params, X, y)
    if not np.allclose(tape, fd, rtol=FD_RTOL, atol=FD_RTOL * np.abs(tape).max()):
        raise AssertionError("autodiff and finite differences disagree: the reference itself is broken")
    return {name: tape[:, j] for j, (_, _, name) in enumerate(names)}


def finite_differences(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dparameter (points x parameters, document order) by central differences of the numpy forward pass."""
    loss = LOSSES[arch.loss]

    def L(p: Params, x: np.ndarray, t: float) -> float:
        return float(loss(t, forward(arch, p, x)[-1])[0])

    rows = []
    for p, x, t in zip(params, X, y, strict=True):
        row = []
        for key, index, _ in parameter_names(arch):
            h = 1e-6 * max(1.0, abs(p[key][index]))
            up = {k: v.copy() for k, v in p.items()}
            down = {k: v.copy() for k, v in p.items()}
            up[key][index] += h
            down[key][index] -= h
            row.append((L(up, x, t) - L(down, x, t)) / (2 * h))
        rows.append(row)
    return np.array(rows)
