"""Measure how far each optimizer convention is from Keras's own optimizer after 1, 10 and 100 steps.

    python -m tests.measure_conventions [--dtype float64]

On the optimizer audit's network and rows (comparisons/audit/optimizer_audit.py), init
random: each convention of manual/batch/conventions.py trains free for 100 steps from
the same start, handed manual/'s gradient at its own parameters; Keras trains free
from the same start with its own optimizer (at learning rate eta (1 - beta) for
deeplearning.ai's momentum, its equivalent), by reference/'s per-step job. Printed:
the largest relative distance (floor 0.1) between the two parameter vectors after
steps 1, 10 and 100.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from comparisons.audit.optimizer_audit import KERAS_NAMES, optimizer_context, optimizer_spec
from comparisons.run import keras_records, keras_run
from comparisons.spec import Spec
from comparisons.tolerances import AUDIT_FLOOR
from comparisons.ulp import relative_distance
from manual.batch.conventions import CONVENTIONS, keras_equivalent
from manual.batch.optimizers import Optimizer, OptimizerConfig
from manual.batch.training import backward, batch_rows, forward
from manual.network import copy_params, in_document_order
from reference import runner

STEPS = (1, 10, 100)
LEARNING_RATES = {
    "sgd": 0.001,
    "momentum": 0.001,
    "adam": 0.001,
    "rmsprop": 0.001,
    "adagrad": 0.01,
}  # none blows up in 100 steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    print(f"| optimizer | convention | after 1 step | after 10 | after 100 |  ({args.dtype})")
    print("|---|---|---|---|---|")
    for kind, conventions in CONVENTIONS.items():
        lr = LEARNING_RATES[kind]
        spec = optimizer_spec(kind, lr, args.dtype, epochs=25).with_(init="random")  # 4 steps an epoch: 100
        context = optimizer_context(spec)
        batches = batch_rows(context["order"], context["batch"])[: max(STEPS)]
        for name, (form, _) in conventions.items():
            config = OptimizerConfig(KERAS_NAMES[kind], lr, momentum=0.9 if kind == "momentum" else 0.0)
            ours = _free(spec, form(config, np.dtype(args.dtype)), context, batches)
            keras = _keras(spec.with_(optimizer=keras_equivalent(name, config)), context, batches)
            row = [f"{relative_distance(ours[k - 1], keras[k - 1], AUDIT_FLOOR).max():.2g}" for k in STEPS]
            print(f"| {kind} | {name} | {' | '.join(row)} |")


def _free(spec: Spec, optimizer: Optimizer, context: dict[str, Any], batches: list[np.ndarray]) -> list[np.ndarray]:
    arch, X, Y = spec.arch, context["X"], context["y"]
    current, out = copy_params(context["params"]), []
    for rows in batches:
        outputs, _ = forward(arch, current, X[rows])
        current = optimizer.apply(current, backward(arch, current, outputs, Y[rows]))
        out.append(np.array(in_document_order(arch, current), dtype=np.float64))
    return out


def _keras(spec: Spec, context: dict[str, Any], batches: list[np.ndarray]) -> list[np.ndarray]:
    job, _ = keras_run(spec, context["params"], (context["X"].astype(np.float64), context["y"].astype(np.float64)))
    job["order"] = context["order"]
    result = runner.run("steps_and_gradients", **job, batches=batch_rows(context["order"], context["batch"]))
    records = keras_records(spec.arch, result)
    return [np.array(in_document_order(spec.arch, p), dtype=np.float64) for p in records[: len(batches)]]


if __name__ == "__main__":
    main()
