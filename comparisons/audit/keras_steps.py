"""Keras's side of an audit, per init: the state before and after every step, each step's loss and the true gradient.

A function of the spec alone: computed once per process and kept in the disk cache."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons import cache
from comparisons.data import spec_arrays
from comparisons.run import initial_params, keras_records, keras_run
from comparisons.spec import Spec, row_order
from manual.batch.training import batch_rows
from manual.network import (
    Architecture,
    Params,
    from_keras_weights,
    in_document_order,
    parameter_names,
)
from reference import runner
from reference.protocol import unnumbered

__all__ = ["AuditSpec", "KerasSide", "arch_of", "job_context", "keras_side", "run_context"]


@dataclass(frozen=True)
class KerasSide:
    """One init's Keras run, per step: the state before it, after it, the row's loss and the true gradient."""

    before: np.ndarray  # (K, P) document order
    after: np.ndarray  # (K, P)
    losses: np.ndarray  # (K,) each row's loss, from the parameters before its update
    grads: np.ndarray  # (K, P) dL/dparameter at ``before[k]`` on row k, by tf.GradientTape


AuditSpec = Spec  # the document's networks, or one of the user's trained by plain SGD


def arch_of(spec: AuditSpec) -> Architecture:
    return spec.arch


@functools.lru_cache(maxsize=64)
def run_context(spec: AuditSpec) -> dict[str, Any]:
    """The run's start, rows, order and batch size: computed once per spec, so threads grading a
    class never build Keras-initialized weights at the same time (Keras's seeding is global). Read-only."""
    X, Y = spec_arrays(spec)
    return {
        "params": initial_params(spec),
        "X": X,
        "y": Y[:, 0] if spec.is_document else Y,  # a preset's step takes one row's scalar target
        "order": row_order(spec, len(X)),
        "lr": spec.learning_rate,
        "batch": spec.batch_size,
    }


@functools.lru_cache(maxsize=64)
def keras_side(spec: AuditSpec) -> KerasSide:
    """Everything the audit needs from Keras for one run; a function of the spec alone, kept in
    this process (a process auditing many files computes it once) and in the disk cache."""
    context = run_context(spec)
    job, settings = keras_run(spec, context["params"])

    def compute() -> dict[str, np.ndarray]:
        result = runner.run("steps_and_gradients", **job, batches=batch_rows(context["order"], spec.batch_size))
        return _side_arrays(spec.arch, context["params"], result)

    return _read_only(cache.fetch("keras-audit", settings, compute))


def _side_arrays(arch: Architecture, params: Params, result: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Keras's per-step record in document order: the parameters before and after every step,
    its loss, and the taped gradient at the state before it."""
    done = np.array([in_document_order(arch, p) for p in keras_records(arch, result)])
    start = np.array([in_document_order(arch, params)], dtype=done.dtype)
    taped = unnumbered("g", result)
    grads = [in_document_order(arch, from_keras_weights(arch, [g[k] for g in taped])) for k in range(len(done))]
    return {
        "before": np.concatenate([start, done[:-1]]),
        "after": done,
        "losses": result["losses"],
        "grads": np.array(grads),
    }


def _read_only(arrays: dict[str, np.ndarray]) -> KerasSide:
    for array in arrays.values():
        array.setflags(write=False)
    return KerasSide(arrays["before"], arrays["after"], arrays["losses"], arrays["grads"])


def job_context(spec: AuditSpec, side: KerasSide) -> dict[str, Any]:
    """What the user's process needs for one init: the run, and Keras's state before every step."""
    arch = arch_of(spec)
    names = parameter_names(arch)
    states = {
        key: np.stack([side.before[:, j] for j, (k, _, _) in enumerate(names) if k == key], axis=1).reshape(
            (len(side.before), *shape)
        )
        for key, shape in arch.shapes()
    }
    return {**run_context(spec), "states": states}
