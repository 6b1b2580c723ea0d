"""SHA-256 of Keras's trajectories, per run, for the redesign's "stays bit-identical" claim.

``python -m tests.keras_fingerprint`` prints one line per run: its name and the
SHA-256 of every array Keras's side returned for it (the per-epoch trajectory on
both paths, the audit's per-step record with its taped gradients, the formula
sheets' float64 gradients, a network's trajectory), each computed afresh with an
empty cache of its own. Run it before and after a change to reference/ and diff
the two outputs: a moved loop that changes one bit changes a line. The hashes
depend on the machine's last bits, so they are compared on one machine, never
stored as expectations.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile

import numpy as np
import pandas as pd


def digest(*arrays: object) -> str:
    sha = hashlib.sha256()
    for array in arrays:
        values = array.to_numpy() if isinstance(array, pd.DataFrame) else np.asarray(array)
        sha.update(str(values.dtype).encode() + str(values.shape).encode())
        sha.update(np.ascontiguousarray(values).tobytes())
    return sha.hexdigest()


def fingerprints() -> dict[str, str]:
    from comparisons import Spec
    from comparisons.audit.keras_steps import keras_side
    from comparisons.formulas.gradients import true_gradients
    from comparisons.run import initial_params, run_keras
    from manual.batch.optimizers import OptimizerConfig

    out: dict[str, str] = {}
    for problem in ("regression", "classification"):
        for dtype in ("float32", "float64"):
            for order in ("sequential", "shuffle", "sample"):
                for init in ("seed", "random", "keras"):
                    spec = Spec.document(problem, dtype=dtype, epochs=20, order=order, init=init, seed=3)
                    params = initial_params(spec)
                    out[f"trajectory-fast-{spec.label}"] = digest(run_keras(spec, params))
                    if order == "shuffle":
                        out[f"trajectory-plain-{spec.label}"] = digest(run_keras(spec, params, path="plain"))
                    if order != "sample":
                        side = keras_side(spec.with_(epochs=5))
                        out[f"audit-{spec.label}"] = digest(side.before, side.after, side.losses, side.grads)
            spec = Spec.document(problem, dtype="float64", init="random", seed=5)
            points = [initial_params(spec.with_(seed=s)) for s in range(4)]
            X = np.array(spec.definition.data().iloc[:, :2], dtype="float64")
            y = np.array(spec.definition.data().iloc[:, 2], dtype="float64")
            grads = true_gradients(spec.arch, points, X, y)
            out[f"gradients-{problem}"] = digest(*grads.values())
    networks = [
        Spec(
            layers=(3, 5, 4, 2),
            activations=("tanh", "relu", "softmax"),
            loss="categorical_crossentropy",
            optimizer=OptimizerConfig("adam"),
            batch_size=3,
            rows=10,
            epochs=10,
        ),
        Spec(
            layers=(2, 3, 1),
            activations=("sigmoid", "linear"),
            optimizer=OptimizerConfig("sgd", 0.05, momentum=0.9),
            batch_size=2,
            rows=7,
            epochs=10,
            init="random",
            order="shuffle",
        ),
        Spec(
            layers=(2, 2, 1),
            activations=("linear", "linear"),
            optimizer=OptimizerConfig("sgd", 0.001),
            rows=4,
            epochs=10,
            init="keras",
            dtype="float32",
        ),
    ]
    from comparisons.run import run_keras as run_network

    for spec in networks:
        params = initial_params(spec)
        out[f"network-fast-{spec.label}"] = digest(run_network(spec, params))
        out[f"network-plain-{spec.label}"] = digest(run_network(spec, params, path="plain"))
        side = keras_side(spec.with_(epochs=3))
        out[f"network-audit-{spec.label}"] = digest(side.before, side.after, side.losses, side.grads)
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as folder:
        os.environ["XDG_CACHE_HOME"] = folder
        for name, value in fingerprints().items():
            print(f"{value}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
