"""Step files written as a user would write them, for the audit's tests: one template,
and the lines each known bug changes in it (not by calling manual.row.bugs)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "BUGGY_LINES",
    "PROBLEM_PARTS",
    "TEMPLATE",
    "bugs_for_problem",
    "user_file",
    "user_source",
    "write_notebook",
]

TEMPLATE = """
import numpy as np


def step(params, x, y, lr):
    W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    h = ACT(x[0] * W1[0] + x[1] * W1[1] + b1)  # O_11, O_12
    y_hat = ACT(h[0] * W2[0, 0] + h[1] * W2[1, 0] + b2[0])
    loss = LOSS
    e = ERROR  # dL/dz at the output neuron
    W2_new = W2 - lr * e * h[:, None]
    b2_new = b2 - lr * e  #@b2
    delta = e * W2[:, 0] * SLOPE  #@delta
    W1_new = W1 - lr * np.outer(x, delta)  #@W1
    b1_new = b1 - lr * delta  #@b1
    new = {"W1": W1_new, "b1": b1_new, "W2": W2_new, "b2": b2_new}
    return new, loss  #@return
"""

PROBLEM_PARTS = {
    "regression": {
        "ACT": "",
        "LOSS": "(y - y_hat) ** 2",
        "ERROR": "-2 * (y - y_hat)",
        " * SLOPE": "",
    },
    "classification": {
        "ACT": "(lambda z: 1 / (1 + np.exp(-z)))",
        "LOSS": "-y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)",
        "ERROR": "-(y - y_hat)",
        "SLOPE": "h * (1 - h)",
    },
}

AFTER_UPDATE = """
    h2 = ACT(x[0] * W1_new[0] + x[1] * W1_new[1] + b1_new)
    after = ACT(h2[0] * W2_new[0, 0] + h2[1] * W2_new[1, 0] + b2_new[0])
    y_hat = after
    return new, LOSS  #@return"""

# bug -> (the lines that change, as a user would write them)
BUGGY_LINES = {
    "b2-from-W2": {"b2 - lr * e  #@b2": "W2[1] - lr * e  #@b2"},
    "W2-updated-first": {"e * W2[:, 0] * SLOPE  #@delta": "e * W2_new[:, 0] * SLOPE  #@delta"},
    "W1-indices-swapped": {"np.outer(x, delta)  #@W1": "np.outer(delta, x)  #@W1"},
    "hidden-error-crossed": {"e * W2[:, 0] * SLOPE  #@delta": "e * W2[::-1, 0] * SLOPE  #@delta"},
    "sigmoid-derivative-dropped": {"e * W2[:, 0] * SLOPE  #@delta": "e * W2[:, 0]  #@delta"},
    "factor-two-dropped": {"ERROR  #": "-(y - y_hat)  #"},
    "loss-after-update": {"\n    return new, loss  #@return": AFTER_UPDATE},
}


def bugs_for_problem(problem: str) -> list[str]:
    skip = "sigmoid-derivative-dropped" if problem == "regression" else "factor-two-dropped"
    return [bug for bug in BUGGY_LINES if bug != skip]


def user_source(problem: str, changes: dict[str, str] | None = None) -> str:
    """The template for ``problem`` with each ``old: new`` change made (every old must be there)."""
    text = TEMPLATE
    for old, new in (changes or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    for old, new in PROBLEM_PARTS[problem].items():
        text = text.replace(old, new)
    return text


def user_file(tmp_path: Path, problem: str, bug: str | None = None, name: str = "user_step.py") -> Path:
    path = tmp_path / name
    path.write_text(user_source(problem, BUGGY_LINES[bug] if bug else None))
    return path


def write_notebook(path: Path, *cells: tuple[str, str]) -> Path:
    """A notebook (nbformat 4) of (cell type, source) cells, as Jupyter saves it."""
    document = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source}
            | ({"execution_count": None, "outputs": []} if kind == "code" else {})
            for kind, source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document))
    return path
