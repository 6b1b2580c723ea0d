"""Measure how far the manual trainer is from Keras, per piece: ``python -m tests.measure_networks``.

Each piece (a hidden activation, a loss with its output, an optimizer, a batch
size) is varied alone from a base network, over seeds, widths, inits and both
dtypes; the worst ULP distance of any parameter and of the epoch loss after
any epoch is printed per piece and dtype. comparisons/tolerances.py states the
result and the bound set from it. ``--epochs`` and ``--seeds`` widen the sweep.
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from collections.abc import Iterator

from comparisons.spec import Spec
from comparisons.verdict import compare
from manual.batch.optimizers import OptimizerConfig

BASE = {"activations": ("tanh", "linear"), "loss": "mean_squared_error", "batch_size": 4}
PIECES: dict[str, dict[str, object]] = {
    "hidden linear": {"activations": ("linear", "linear")},
    "hidden sigmoid": {"activations": ("sigmoid", "linear")},
    "hidden tanh": {"activations": ("tanh", "linear")},
    "hidden relu": {"activations": ("relu", "linear")},
    "mean_squared_error, sigmoid output": {"activations": ("tanh", "sigmoid")},
    "mean_absolute_error": {"loss": "mean_absolute_error"},
    "binary_crossentropy": {"loss": "binary_crossentropy", "activations": ("tanh", "sigmoid")},
    "categorical_crossentropy": {"loss": "categorical_crossentropy", "activations": ("tanh", "softmax")},
    "sparse_categorical_crossentropy": {"loss": "sparse_categorical_crossentropy", "activations": ("tanh", "softmax")},
    "batch 1": {"batch_size": 1},
    "batch 5 of 16 (partial last)": {"batch_size": 5},
    "batch 16 (all rows)": {"batch_size": 16},
}
OPTIMIZER_PIECES = {
    "sgd": OptimizerConfig("sgd", 0.01),
    "sgd momentum 0.9": OptimizerConfig("sgd", 0.01, momentum=0.9),
    "sgd nesterov 0.9": OptimizerConfig("sgd", 0.01, momentum=0.9, nesterov=True),
    "adam": OptimizerConfig("adam", 0.001),
    "rmsprop": OptimizerConfig("rmsprop", 0.001),
    "adagrad": OptimizerConfig("adagrad", 0.001),
}


def cases(seeds: int, epochs: int) -> Iterator[tuple[str, Spec]]:
    for width, dtype, seed, init in itertools.product(
        (4, 8), ("float32", "float64"), range(seeds), ("random", "keras")
    ):
        base = Spec(
            layers=(3, width, 2),
            optimizer=OptimizerConfig("adam", 0.001),
            epochs=epochs,
            dtype=dtype,
            seed=seed,
            init=init,
            order="shuffle",
            **BASE,  # type: ignore[arg-type]
        )
        for piece, changes in PIECES.items():
            yield piece, base.with_(**changes)
        for piece, optimizer in OPTIMIZER_PIECES.items():
            yield piece, base.with_(optimizer=optimizer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    worst: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for piece, spec in cases(args.seeds, args.epochs):
        result = compare(spec)
        entry = worst[piece, spec.dtype]
        entry[0], entry[1] = max(entry[0], result.max_ulp_weights), max(entry[1], result.max_ulp_loss)
    print(f"worst ULP distance after any of {args.epochs} epochs, seeds 0-{args.seeds - 1}, widths 4 and 8:")
    print(f"{'piece':<36} {'float32 w':>10} {'loss':>6} {'float64 w':>10} {'loss':>6}")
    for piece in [*PIECES, *OPTIMIZER_PIECES]:
        w32, l32 = worst[piece, "float32"]
        w64, l64 = worst[piece, "float64"]
        print(f"{piece:<36} {w32:>10.3g} {l32:>6.3g} {w64:>10.3g} {l64:>6.3g}")


if __name__ == "__main__":
    main()
