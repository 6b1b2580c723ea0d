"""What the audit's parent and its worker (comparisons.audit.worker) exchange, declared once.

**The job**, a pickle on the worker's stdin, written by the parent and read before any
user code runs (``make_job``):

- ``path`` (the file, as the worker sees it), ``contract`` (``step`` or ``tutorial``),
  ``func``, ``forward``, ``update`` (the user's function names), ``layout`` (``keras``,
  ``columns`` or ``out-in``: comparisons.audit.layouts);
- ``cells``: a notebook's code cells as (number, Python source), IPython's transformation
  done by the parent, in the order taken; None for a .py file;
- ``probe``, or None: choose the definitions and the layout first (comparisons.audit.choice):
  ``groups`` (how many of ``cells`` each group of definitions takes; None: all),
  ``layouts`` (those tried), ``contexts`` (the problem's run at one init, then the other
  problem's where tried, each with its ``loss``), ``init`` (its name), ``expected`` (Keras's first-step loss on
  each), ``threshold`` and ``floor`` (the audit's);
- ``sizes`` (layer widths, input first) and ``loss`` (a Keras loss name);
- ``runs``: per init, the run's context: ``params`` (the initial parameters), ``X`` and
  ``y`` (the rows), ``order`` (epochs x rows), ``lr``, ``batch`` (the batch size) and
  ``states`` (Keras's parameters before every step, per parameter, stacked over steps);
- ``functions``, the Python API's only: the user's functions themselves, by name, for a
  worker that runs in the parent's own process.

**The result**, an ``.npz`` of plain arrays (never a pickle: the parent reads it without
running anything), checked member by member before it is read (``result_shapes``):
``error``, a 0-d string naming what is wrong with the user's code in one line; or, for
PART in ``runs`` (free-running from the initial parameters) and ``forced`` (each step
from Keras's state before it), per init, ``PART.INIT.params`` (steps x parameters, in
document order) and ``PART.INIT.losses`` (steps), in the run's dtype. With a probe,
also ``probe.losses`` (groups x layouts x problems, float64, NaN where the first step did
not run; why it did not stays in the child); where no group is the problem's, it alone.
``yhat_shape``, 0-d text such as ``(2, 1)``, where the tutorial contract's forward pass
returned a y_hat of more than one value.

**A learner's optimizer** (``contract`` ``dlai`` or ``class``, comparisons.audit.optimizer_code):
the job adds ``optimizer`` (sgd, momentum, adam, rmsprop, adagrad), ``class`` (a name, or None),
``given`` (the hyperparameters the audit was told, by HYPER_NAMES) and ``activations``; the
result holds, per init, ``optimizer.INIT.before``, ``.grads`` and ``.after`` (steps x parameters,
in document order, the run's dtype): the learner's parameters before each update, the gradient
it was handed (manual/'s, at those parameters), and what it returned; and ``optimizer.hyper``
(float64, by HYPER_NAMES, NaN where the learner's code has none), ``optimizer.source`` (int64,
an index into SOURCES), ``optimizer.label`` (0-d text: the function or class audited) and
``optimizer.changed`` (int64, inits in the job's order x tensors x CHANGED_WIDTH): for each tensor
the update gave back in another shape than it was handed, the step (0-based), 1 where it is the
tensor's own update broadcast (constant along the axes its shape lacks) and the shape given back
(-1 padded); -1 throughout for every other tensor. The run stops at such a step, its rows NaN from
there on.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from manual.batch.training import batch_rows

__all__ = [
    "CHANGED",
    "CHANGED_WIDTH",
    "ERROR",
    "EXTRAS",
    "HYPER",
    "HYPER_NAMES",
    "LABEL",
    "OPTIMIZER_CONTRACTS",
    "OPTIMIZER_PART",
    "OPTIMIZER_VALUES",
    "PARTS",
    "PROBE_LOSSES",
    "SHAPE",
    "SOURCE",
    "SOURCES",
    "VALUES",
    "WORKER",
    "is_optimizer",
    "make_job",
    "parts_of",
    "probe_shapes",
    "result_name",
    "result_shapes",
    "steps_of",
]

WORKER = "comparisons.audit.worker"  # run as ``python -m``
PARTS = ("runs", "forced")
VALUES = ("params", "losses")
ERROR = "error"
PROBE_LOSSES = "probe.losses"
SHAPE = "yhat_shape"
EXTRAS = (PROBE_LOSSES, SHAPE)
OPTIMIZER_CONTRACTS = ("dlai", "class")
OPTIMIZER_PART = "optimizer"
OPTIMIZER_VALUES = ("before", "grads", "after")
HYPER_NAMES = ("learning_rate", "momentum", "beta_1", "beta_2", "epsilon", "rho")
SOURCES = ("", "yours", "given", "usual")
HYPER, SOURCE, LABEL = "optimizer.hyper", "optimizer.source", "optimizer.label"
CHANGED = "optimizer.changed"
CHANGED_WIDTH = 6  # the step, whether broadcast, and the first four sizes of the shape given back


def make_job(
    path: str,
    contract: dict[str, Any],
    sizes: list[int],
    loss: str,
    runs: dict[str, Any],
    cells: list[tuple[int, str]] | None = None,
    probe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"path": path, "sizes": sizes, "loss": loss, "runs": runs, "cells": cells, "probe": probe} | contract


def probe_shapes(job: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The probe's members, where the job has one."""
    probe = job.get("probe")
    if probe is None:
        return {}
    return {PROBE_LOSSES: (len(probe["groups"]), len(probe["layouts"]), len(probe["contexts"]))}


def result_name(part: str, init: str, what: str) -> str:
    return f"{part}.{init}.{what}"


def steps_of(context: dict[str, Any]) -> int:
    """A run's updates: its epochs' rows cut into batches."""
    return len(batch_rows(context["order"], context["batch"]))


def is_optimizer(job: dict[str, Any]) -> bool:
    return job.get("contract") in OPTIMIZER_CONTRACTS


def parts_of(job: dict[str, Any]) -> tuple[str, ...]:
    return (OPTIMIZER_PART,) if is_optimizer(job) else PARTS


def result_shapes(job: dict[str, Any]) -> tuple[dict[str, tuple[int, ...]], np.dtype[Any]]:
    """Every member of the run's dtype a worker's result for ``job`` holds, with its shape, and that dtype."""
    P = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(job["sizes"]))  # weights and biases
    dtype: np.dtype[Any] = next(iter(job["runs"].values()))["X"].dtype
    if is_optimizer(job):
        return {
            result_name(OPTIMIZER_PART, init, what): (steps_of(context), P)
            for init, context in job["runs"].items()
            for what in OPTIMIZER_VALUES
        }, dtype
    shapes: dict[str, tuple[int, ...]] = {
        result_name(part, init, what): (steps_of(context), P) if what == "params" else (steps_of(context),)
        for part in PARTS
        for init, context in job["runs"].items()
        for what in VALUES
    }
    return shapes, dtype
