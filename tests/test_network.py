"""Any dense network against Keras after every epoch: one line per piece.

``check`` trains both sides from the same weights over the same batches and
asserts every parameter and the epoch loss within the measured tolerance after
every epoch (comparisons/tolerances.py). A new activation, loss or optimizer
is one more line in CASES; its known-bad variant one more line in BUGS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from comparisons.comparison import Comparison
from comparisons.run import initial_params
from comparisons.run import run_keras as keras_side
from comparisons.spec import DTYPES, INITS, ORDERS, Spec, output_activation
from comparisons.testing import assert_trajectory_matches
from comparisons.verdict import compare
from manual.batch.bugs import MINIBATCH_BUGS
from manual.batch.optimizers import OptimizerConfig
from manual.batch.training import KERAS_LOSSES

EPOCHS = 8

SGD = OptimizerConfig("sgd", 0.05)
ADAM = OptimizerConfig("adam", 0.01)


def spec(
    layers: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str = "mean_squared_error",
    optimizer: OptimizerConfig = ADAM,
    batch: int = 3,
    **changes: object,
) -> Spec:
    base = Spec(layers, activations, loss, optimizer, batch_size=batch, rows=10, epochs=EPOCHS, init="random")
    return base.with_(order="shuffle", **changes)


def check(network: Spec, implementation: str = "minibatch") -> Comparison:
    """Both sides, and the per-epoch assertion (manual actual, Keras desired)."""
    result = compare(network, implementation)
    assert_trajectory_matches(
        result.manual, result.keras, dtype=network.dtype, tolerance=result.tolerance, header=network.label
    )
    return result


CASES = {
    "hidden-linear": spec((3, 4, 2), ("linear", "linear")),
    "hidden-sigmoid": spec((3, 4, 2), ("sigmoid", "linear")),
    "hidden-tanh": spec((3, 4, 2), ("tanh", "linear")),
    "hidden-relu": spec((3, 4, 2), ("relu", "linear")),
    "sigmoid-output-mse": spec((3, 4, 2), ("tanh", "sigmoid")),
    "mae": spec((3, 4, 2), ("tanh", "linear"), "mean_absolute_error"),
    "bce": spec((3, 4, 2), ("tanh", "sigmoid"), "binary_crossentropy"),
    "cce": spec((3, 5, 4, 3), ("tanh", "relu", "softmax"), "categorical_crossentropy"),
    "sparse-cce": spec((3, 4, 3), ("relu", "softmax"), "sparse_categorical_crossentropy"),
    "sgd": spec((3, 4, 2), ("sigmoid", "linear"), optimizer=SGD),
    "sgd-momentum": spec((3, 4, 2), ("tanh", "linear"), optimizer=OptimizerConfig("sgd", 0.05, momentum=0.9)),
    "sgd-nesterov": spec(
        (3, 4, 2), ("tanh", "linear"), optimizer=OptimizerConfig("sgd", 0.05, momentum=0.9, nesterov=True)
    ),
    "rmsprop": spec((3, 4, 2), ("relu", "linear"), optimizer=OptimizerConfig("rmsprop", 0.01)),
    "adagrad": spec((3, 4, 2), ("tanh", "sigmoid"), "binary_crossentropy", OptimizerConfig("adagrad", 0.05)),
    "batch-1": spec((3, 4, 2), ("tanh", "linear"), batch=1),
    "batch-all-rows": spec((3, 4, 2), ("tanh", "linear"), batch=10),
    "batch-larger-than-the-data": spec((3, 4, 2), ("tanh", "linear"), batch=14),
    "four-hidden-layers": spec((2, 6, 5, 4, 3, 1), ("tanh", "relu", "sigmoid", "tanh", "linear"), batch=4),
}


# float64 by default; float32, every case again, in the breadth env (hypothesis draws both dtypes here)
DTYPE_ROWS = [pytest.param("float64"), pytest.param("float32", marks=pytest.mark.breadth)]


@pytest.mark.parametrize("dtype", DTYPE_ROWS)
@pytest.mark.parametrize("case", CASES)
def test_matches_keras_after_every_epoch(case: str, dtype: str) -> None:
    check(CASES[case].with_(dtype=dtype))


# Each known-bad variant on a case it applies to (float64, whose resolution sees them all):
# the per-epoch assertion must fail, from the first epoch.
BUGS = {
    "relu-derivative-one": "cce",
    "tanh-derivative-1-minus-O": "hidden-tanh",
    "sigmoid-derivative-dropped": "hidden-sigmoid",
    "softmax-target-not-subtracted": "sparse-cce",
    "mse-factor-two-dropped": "hidden-tanh",
    "output-mean-dropped": "bce",
    "loss-summed": "hidden-linear",
    "adam-pytorch": "hidden-tanh",
    "adam-no-bias-correction": "hidden-tanh",
    "rmsprop-pytorch": "rmsprop",
    "adagrad-pytorch": "adagrad",
    "nesterov-as-momentum": "sgd-nesterov",
}


def test_every_known_bad_variant_has_a_case() -> None:
    assert sorted(BUGS) == sorted(MINIBATCH_BUGS)


@pytest.mark.parametrize("bug", BUGS)
def test_a_known_bad_variant_is_caught_in_the_first_epoch_and_at_its_first_step(bug: str) -> None:
    """Free-running, off in the first epoch; and from Keras's own state its very first step is off by
    more than its derived bound, so the per-step rule that judges separated networks cannot excuse it."""
    network = CASES[BUGS[bug]]
    result = compare(network, bug)
    with pytest.raises(AssertionError, match=r"epoch 1\b"):
        assert_trajectory_matches(
            result.manual, result.keras, dtype=network.dtype, tolerance=result.tolerance, header=network.label
        )
    assert result.step_check is not None
    assert result.step_check.first_over is not None
    assert result.step_check.first_over[:2] == (1, 1)
    assert not result.matches
    assert result.verdict == "MISMATCH from epoch 1"


@pytest.mark.breadth
def test_the_fast_keras_path_is_bit_identical_to_fit() -> None:
    """One compiled loop over every batch of every epoch against one ``fit`` per epoch:
    a partial last batch, a stateful optimizer, a shuffled order."""
    network = CASES["cce"].with_(epochs=3, batch_size=4)
    params = initial_params(network)
    fast, plain = keras_side(network, params), keras_side(network, params, path="plain")
    np.testing.assert_array_equal(fast.to_numpy(), plain.to_numpy())


def test_pytorch_momentum_differs_from_keras_only_in_rounding() -> None:
    """PyTorch keeps v = mu v + g and steps w -= eta v; Keras keeps m = mu m - eta g. Under a
    constant learning rate these are the same updates: not a bug, and not in BUGS."""
    from manual.batch import optimizers

    class PyTorchSGD(optimizers.SGD):
        def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
            v = self.slot("v", key, w)
            v = v * self.c32(self.config.momentum) + g
            self.state["v"][key] = v
            return w - self.c(self.config.learning_rate) * v

    from comparisons.run import run_manual
    from manual.batch.optimizers import OPTIMIZERS
    from manual.batch.training import Pieces

    network = CASES["sgd-momentum"]
    params = initial_params(network)
    pytorch = run_manual(network, Pieces(optimizers=OPTIMIZERS | {"sgd": PyTorchSGD}), params)
    keras = keras_side(network, params)
    np.testing.assert_allclose(pytorch.to_numpy(), keras.to_numpy(), rtol=1e-12, atol=1e-13)


# Random networks, drawn and shrunk by hypothesis: bounded and derandomized by default
# (tests/conftest.py's "ci" profile), HYPOTHESIS_PROFILE=sweep for a long local search.
HIDDEN = ("linear", "sigmoid", "tanh", "relu")
OPTIMIZERS = [
    OptimizerConfig("sgd", 0.05),
    OptimizerConfig("sgd", 0.02, momentum=0.9),
    OptimizerConfig("sgd", 0.02, momentum=0.5, nesterov=True),
    OptimizerConfig("adam", 0.01),
    OptimizerConfig("rmsprop", 0.005),
    OptimizerConfig("adagrad", 0.05),
]


@st.composite
def networks(draw: st.DrawFn) -> Spec:
    hidden = draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    loss = draw(st.sampled_from(KERAS_LOSSES))
    classes = loss in ("categorical_crossentropy", "sparse_categorical_crossentropy")
    layers = (draw(st.integers(1, 4)), *hidden, draw(st.integers(2 if classes else 1, 4)))
    activations = tuple(draw(st.sampled_from(HIDDEN)) for _ in hidden)
    out = output_activation(loss) if loss not in ("mean_squared_error", "mean_absolute_error") else None
    rows = draw(st.integers(1, 12))
    return Spec(
        layers=layers,
        activations=(*activations, out or draw(st.sampled_from(HIDDEN))),
        loss=loss,
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        batch_size=draw(st.integers(1, rows + 2)),  # above the rows: one batch of them all, as Keras
        rows=rows,
        dtype=draw(st.sampled_from(DTYPES)),
        epochs=draw(st.integers(1, 6)),
        order=draw(st.sampled_from(ORDERS)),
        init=draw(st.sampled_from(INITS)),
        seed=draw(st.integers(0, 3)),
    )


@pytest.mark.breadth  # a Keras model traced per drawn network: 8 s of the default run's CPU
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(networks())
@example(  # the sweep's first counterexample: a symmetric start, Adam amplifying rounding noise
    Spec((1, 1, 3), ("linear", "softmax"), "categorical_crossentropy", OptimizerConfig("adam", 0.01), rows=1, epochs=1)
)
def test_any_network_matches_keras_after_every_epoch(network: Spec) -> None:
    """Free-running within the tolerance after every epoch, or, where rounding separates the two
    trajectories, every step from Keras's own state within its derived bound (issue 19)."""
    result = compare(network)
    assert result.matches, f"{network.label}: {result.verdict}; {result.step_check}"


# The main job with --layers: same table, same exit statuses.

NET = ["--layers", "3,4,2", "--epochs", "3", "--dtype", "float64", "--rows", "6"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from comparisons.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_main_job_on_a_network(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*NET, "--activations", "relu,softmax", "--loss", "sparse_categorical_crossentropy", "--optimizer", "adam"]
    status, out, err = run_cli(capsys, *argv, "--batch-size", "4", "--init", "all")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "manual (minibatch) vs Keras: 3-4-2 relu,softmax sparse_categorical_crossentropy adam(lr 0.001) batch 4, "
        "6 rows of synthetic data, seed 0; ULPs counted with a floor of 0.1"
    )
    assert [line.split()[:4] for line in lines[2:5]] == [["network", "float64", "sequential", i] for i in INITS]
    assert lines[-1] == "3 of 3 runs match Keras after every epoch"


def test_a_known_bad_variant_on_the_command_line_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, *NET, "--optimizer", "adam", "--implementation", "adam-pytorch")
    assert status == 1
    assert "MISMATCH from epoch 1" in out


def test_a_csv_with_target_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    path.write_text("a,b,c,label,note\n5.1,3.5,1.4,0,1\n4.9,3.0,1.4,1,2\n6.2,2.9,4.3,2,3\n5.9,3.0,5.1,1,4\n")
    argv = ["--layers", "3,5,3", "--loss", "sparse_categorical_crossentropy", "--data", str(path), "--target", "label"]
    status, out, err = run_cli(capsys, *argv, "--features", "a,b,c", "--epochs", "3", "--dtype", "float32")
    assert (status, err) == (0, "")
    assert f"batch 1, {path}, seed 0" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--problem", "regression"], "--problem selects the document's networks", id="problem-and-layers"),
        pytest.param(["--activations", "tanh"], "2 layers after the input need as many activations, got 1", id="count"),
        pytest.param(["--activations", "swish,linear"], "unknown activation 'swish'", id="unknown-activation"),
        pytest.param(["--activations", "softmax,linear"], "softmax belongs to the output layer only", id="softmax"),
        pytest.param(
            ["--activations", "tanh,linear", "--loss", "binary_crossentropy"],
            "binary_crossentropy needs a sigmoid output",
            id="bce-linear",
        ),
        pytest.param(
            ["--activations", "tanh,tanh", "--loss", "categorical_crossentropy"],
            "categorical_crossentropy needs a softmax output",
            id="cce-tanh",
        ),
        pytest.param(["--nesterov"], "--nesterov needs a --momentum above 0", id="nesterov"),
        pytest.param(
            ["--optimizer", "adam", "--momentum", "0.9"], "--momentum and --nesterov are sgd's", id="momentum"
        ),
        pytest.param(["--momentum", "1.5"], "argument --momentum: '1.5' is not in [0, 1)", id="momentum-range"),
        pytest.param(["--layers", "3,x"], "is not a comma-separated list of widths", id="layers-text"),
        pytest.param(
            ["--data", "x.csv"], "--rows makes synthetic data; --data brings its own rows", id="rows-and-data"
        ),
        pytest.param(["--target", "y"], "--target and --features name columns of --data", id="target-alone"),
        pytest.param(["--implementation", "b2-from-W2"], "is the document's network's", id="document-bug"),
        pytest.param(["--implementation", "adam-pytorch"], "does not apply to 3-4-2", id="bug-does-not-apply"),
    ],
)
def test_bad_network_options_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run_cli(capsys, *NET, *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err, err


@pytest.mark.parametrize(
    ("csv", "argv", "message"),
    [
        pytest.param("a,b,y\n1,2,3\n", ["--target", "y"], "2 feature columns (a, b) for an input of 3", id="features"),
        pytest.param(
            "a,b,c,y\n1,2,3,4\n", ["--target", "y", "--layers", "3,4,2"], "1 target columns for mean", id="targets"
        ),
        pytest.param(
            "a,b,c,y\n1,2,3,2\n",
            ["--target", "y", "--layers", "3,4,2", "--loss", "sparse_categorical_crossentropy"],
            "row 2: class 2 is not in 0..1",
            id="class",
        ),
        pytest.param("a,b,c,y\n1,2,3,x\n", ["--target", "y"], "row 2, column 'y': 'x' is not a number", id="cell"),
        pytest.param("a,b,c\n1,2,3\n", ["--target", "y"], "missing column 'y'", id="missing"),
    ],
)
def test_bad_network_csv_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, csv: str, argv: list[str], message: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv)
    status, out, err = run_cli(capsys, "--layers", "3,4,1", *argv, "--data", str(path))
    assert (status, out) == (2, "")
    assert message in err, err


@pytest.mark.parametrize(
    "option", [["--optimizer", "adam"], ["--batch-size", "8"], ["--nesterov"], ["--loss", "mean_absolute_error"]]
)
def test_network_options_without_layers_are_refused(capsys: pytest.CaptureFixture[str], option: list[str]) -> None:
    """Not ignored: the document's batch-1 SGD would run and exit 0 as if they had been applied."""
    status, out, err = run_cli(capsys, "--problem", "regression", "--epochs", "2", *option)
    assert (status, out) == (2, "")
    assert f"{option[0]} describes a network of your own: give --layers too" in err


# The audit of a learner's own step on a network of theirs: plain SGD, batches of B rows.

NETWORK_STEP = """
import numpy as np


def step(params, x, y, lr):
    X = np.atleast_2d(x)  # one row at batch size 1, else the batch
    Y = np.asarray(y).reshape(len(X), -1)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = np.tanh(X @ W1 + b1)
    Y_hat = H @ W2 + b2
    B, n = Y.shape
    loss = np.mean(np.mean((Y - Y_hat) ** 2, axis=1))
    d2 = 2 * (Y_hat - Y) / (B * n)
    d1 = (d2 @ W2.T) * (1 - H**2)
    new = {"W2": W2 - lr * H.T @ d2, "b2": b2 - lr * d2.sum(axis=0)}
    return new | {"W1": W1 - lr * X.T @ d1, "b1": b1 - lr * d1.sum(axis=0)}, loss
"""
AUDIT = ["--layers", "3,4,2", "--rows", "10", "--epochs", "6", "--json"]


def audit_json(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, dict[str, object]]:
    import json

    status, out, err = run_cli(capsys, "audit", str(path), *AUDIT, *argv)
    assert err == ""
    report: dict[str, object] = json.loads(out)
    return status, report


@pytest.mark.parametrize(
    ("layers", "batch"),
    [
        pytest.param("3,4,2", "3", id="two-outputs-batch-3-partial-last"),
        pytest.param("3,4,2", "16", id="two-outputs-batch-above-the-rows"),
        pytest.param("2,3,1", "1", id="one-output-batch-1"),
        pytest.param("2,3,1", "10", id="one-output-batch-all-rows"),
    ],
)
def test_a_correct_network_step_matches_keras_after_every_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, batch: str, layers: str
) -> None:
    path = tmp_path / "net_step.py"
    path.write_text(NETWORK_STEP)
    status, report = audit_json(capsys, path, "--batch-size", batch, "--layers", layers)
    assert (status, report["verdict"]) == (0, "match"), report


def test_a_slip_only_the_partial_batch_shows_is_placed_at_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """10 rows in batches of 3: steps 1-3 hold 3 rows, step 4 row 9 alone; a step that divides by
    3 instead of the batch's own size is right until step 4 of epoch 1."""
    path = tmp_path / "net_bug.py"
    path.write_text(NETWORK_STEP.replace("/ (B * n)", "/ (3 * n)"))
    status, report = audit_json(capsys, path, "--batch-size", "3", "--init", "random")
    first = report["first_divergence"]
    assert status == 1
    assert isinstance(first, dict)
    assert (first["epoch"], first["step"], first["row"], first["batch_rows"]) == (1, 4, 9, [])


@pytest.mark.parametrize(
    ("slip", "written", "finding"),
    [
        pytest.param("(1 - H)", "(1 - H**2)", ("activation-derivative", ["W1", "b1"], 1, None), id="tanh-derivative"),
        pytest.param(
            "/ n", "/ (B * n)", ("batch-reduction", ["W1", "b1", "W2", "b2"], 2, 3.0), id="summed-over-the-batch"
        ),
    ],
)
def test_a_network_step_with_a_slip_diverges_at_its_first_step_and_is_diagnosed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, slip: str, written: str, finding: tuple[object, ...]
) -> None:
    path = tmp_path / "net_bug.py"
    path.write_text(NETWORK_STEP.replace(written, slip))
    status, report = audit_json(capsys, path, "--batch-size", "3")
    first = report["first_divergence"]
    assert status == 1
    assert isinstance(first, dict)
    assert (first["epoch"], first["step"]) == (1, 1)
    diagnosis = report["diagnosis"]
    assert isinstance(diagnosis, dict)
    assert [(f["kind"], f["parameters"], f["layer"], f["factor"]) for f in diagnosis["findings"]] == [finding]
    assert diagnosis["per_parameter"] is True


@pytest.mark.parametrize(
    ("optimizer", "contract", "message"),
    [
        pytest.param(ADAM, None, "adam carries state between steps", id="adam"),
        pytest.param(
            OptimizerConfig("sgd", 0.01, momentum=0.9), None, "sgd with momentum carries state", id="momentum"
        ),
        pytest.param(SGD, "columns", "the step contract in Keras's layout", id="column-layout"),
    ],
)
def test_a_network_audit_needs_a_stateless_step_in_keras_layout(
    tmp_path: Path, optimizer: OptimizerConfig, contract: str | None, message: str
) -> None:
    from comparisons.audit import Contract, audit
    from comparisons.errors import InputError

    path = tmp_path / "net_step.py"
    path.write_text(NETWORK_STEP)
    network = Spec((3, 4, 2), ("tanh", "linear"), optimizer=optimizer, epochs=2)
    with pytest.raises(InputError, match=message):
        audit(path, Contract(layout=contract or "keras"), network, ["random"])


def test_the_audits_network_options_need_layers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "net_step.py"
    path.write_text(NETWORK_STEP)
    status, out, err = run_cli(capsys, "audit", str(path), "--problem", "regression", "--batch-size", "3")
    message = "python -m comparisons: error: --batch-size describes a network of your own: give --layers too\n"
    assert (status, out, err) == (2, "", message)


def test_bench_times_a_network_of_ones_own(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    argv = ["bench", "--part", "network", "--layers", "3,4,2", "--optimizer", "sgd", "--momentum", "0.9"]
    status, out, _ = run_cli(capsys, *argv, "--network-epochs", "2", "--rows", "8", "--batch-size", "3", "--json")
    result = json.loads(out)
    assert (status, result["network_identical"]) == (0, True)
    assert result["network"] == (
        "3-4-2 tanh,linear mean_squared_error sgd(lr 0.01, momentum 0.9) batch 3, 8 rows, 2 epochs, float64"
    )
    status, out, err = run_cli(capsys, "bench", "--part", "keras", "--layers", "3,4,2")
    assert (status, err) == (
        2,
        "python -m comparisons: error: the network options are the network part's: give --part network\n",
    )
