"""reference/ on its own: one fit over the whole row sequence is the same as one fit per epoch."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from comparisons import PROBLEMS, RunSpec, row_order, to_arrays


@pytest.mark.parametrize("order", ["shuffle", "sample"])
@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_single_fit_equals_one_fit_per_epoch(problem: str, order: str) -> None:
    """The harness feeds Keras every epoch's rows through one ``fit`` (steps_per_epoch = rows);
    this is the plain loop a notebook would write, one ``fit(shuffle=False)`` per epoch."""
    spec = RunSpec(problem=problem, dtype="float64", order=order, epochs=6, seed=5)
    arch = PROBLEMS[problem].arch
    X, y = to_arrays(PROBLEMS[problem].data(), PROBLEMS[problem], "float64")
    rows = row_order(spec, len(X))
    start = reference.initial_weights(arch.sizes, arch.activations, "float64", seed=1)

    model = reference.build_model(arch.sizes, arch.activations, arch.loss, "float64", spec.learning_rate)
    once = reference.train(model, start, X, y, rows, spec.learning_rate)

    loop = reference.build_model(arch.sizes, arch.activations, arch.loss, "float64", spec.learning_rate)
    loop.set_weights(start)
    for epoch, epoch_rows in enumerate(rows):
        with reference.floatx("float64"):  # else Keras casts the rows to float32
            history = loop.fit(X[epoch_rows], y[epoch_rows], batch_size=1, epochs=1, shuffle=False, verbose=0)
        assert history.history["loss"][0] == once.losses[epoch], f"epoch {epoch + 1} loss"
        for w_once, w_loop in zip(once.weights[epoch], loop.get_weights(), strict=True):
            np.testing.assert_array_equal(w_once, w_loop, err_msg=f"epoch {epoch + 1}")


def test_keras_initial_weights_are_seeded() -> None:
    arch = PROBLEMS["classification"].arch
    first = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=4)
    again = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=4)
    other = reference.initial_weights(arch.sizes, arch.activations, "float32", seed=5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert first[0].dtype == np.float32
    assert np.all(first[1] == 0)  # Keras's zero biases
