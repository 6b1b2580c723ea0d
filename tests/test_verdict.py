"""The verdict rounding cannot fool (issue 19): a network whose free-running trajectories separate is
judged step by step from Keras's own state; each rounding kind is shown to fire and to stay quiet, and
the counterexamples that used to read MISMATCH read match, per step, with the reason named."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from comparisons.comparison import Comparison
from comparisons.per_step import per_step
from comparisons.run import initial_params
from comparisons.spec import Spec
from comparisons.verdict import compare
from manual import Params
from manual.batch.optimizers import OPTIMIZERS, Adam, OptimizerConfig
from manual.batch.training import Pieces

# A symmetric start: the hidden layer's true gradient is exactly zero, Adam turns its rounding noise
# into steps; Keras's own trajectory is well-conditioned, so the separation is the steps' amplified
SYMMETRIC = Spec(
    (2, 3, 3),
    ("tanh", "softmax"),
    "categorical_crossentropy",
    OptimizerConfig("adam", 0.01),
    batch_size=2,
    rows=6,
    epochs=20,
    init="seed",
)
# Momentum at a large rate through relu and sigmoid layers: Keras against itself from 1 ULP away
# separates, and a relu meets 0 within rounding
CHAOTIC = Spec(
    (6, 6, 3, 5, 2),
    ("linear", "relu", "relu", "sigmoid"),
    "mean_absolute_error",
    OptimizerConfig("sgd", 0.1, momentum=0.9),
    batch_size=3,
    rows=8,
    epochs=50,
    init="keras",
    order="shuffle",
    seed=25,
)
# The other counterexamples: minutes of CPU together, behind -m long
SATURATED = Spec(
    (5, 7, 6, 8, 2),
    ("linear", "relu", "sigmoid", "sigmoid"),
    "mean_absolute_error",
    OptimizerConfig("rmsprop", 0.1),
    rows=19,
    epochs=50,
    dtype="float32",
    init="random",
    seed=37,
)
SPARSE = Spec(
    (6, 4, 6, 2, 4),
    ("linear", "linear", "sigmoid", "softmax"),
    "sparse_categorical_crossentropy",
    OptimizerConfig("adam", 0.1),
    batch_size=14,
    rows=18,
    epochs=50,
    init="keras",
    order="sample",
    seed=3,
)


@functools.cache
def judged(spec: Spec) -> Comparison:
    """Each spec judged once per worker: several tests read the same verdict."""
    return compare(spec)


def kinds(result: Comparison) -> list[str]:
    assert result.step_check is not None
    return list(dict.fromkeys(r.kind for r in result.step_check.rounding))


@pytest.mark.parametrize(
    ("spec", "verdict"),
    [
        pytest.param(
            SYMMETRIC,
            "match (per step; free-running separates from epoch 1, zero-gradient, amplified)",
            id="2-3-3-adam-init-seed",
        ),
        pytest.param(
            SYMMETRIC.with_(lr=0.1),
            "match (per step; free-running separates from epoch 1, zero-gradient, amplified)",
            id="2-3-3-adam-lr0.1-init-seed",
        ),
        pytest.param(
            CHAOTIC,
            "match (per step; free-running separates from epoch 27, branch, ill-conditioned)",
            id="6-6-3-5-2-momentum-ill-conditioned",
        ),
        pytest.param(
            SATURATED,
            "match (per step; free-running separates from epoch 1, zero-gradient, ill-conditioned)",
            id="5-7-6-8-2-rmsprop-lr0.1-float32",
            marks=pytest.mark.long,
        ),
        pytest.param(
            SATURATED.with_(dtype="float64"),
            "match (per step; free-running separates from epoch 1, zero-gradient, ill-conditioned)",
            id="5-7-6-8-2-rmsprop-lr0.1-float64",
            marks=pytest.mark.long,
        ),
        pytest.param(
            SPARSE,
            "match (per step; free-running separates from epoch 18, zero-gradient, ill-conditioned)",
            id="6-4-6-2-4-sparse-adam-lr0.1",
            marks=pytest.mark.long,
        ),
    ],
)
def test_a_separation_rounding_explains_is_a_match_per_step(spec: Spec, verdict: str) -> None:
    result = judged(spec)
    assert result.verdict == verdict
    assert result.matches
    assert result.step_check is not None
    assert result.step_check.holds
    assert result.step_check.worst <= 1


def test_a_zero_gradient_is_named_by_parameter_and_where_it_is_first_seen() -> None:
    result = judged(SYMMETRIC)
    assert result.step_check is not None
    zero = [r for r in result.step_check.rounding if r.kind == "zero-gradient"]
    # the whole hidden layer, which the symmetric start makes interchangeable; never the output layer
    assert [r.parameter for r in zero] == [
        "w^1_11",
        "w^1_12",
        "w^1_13",
        "w^1_21",
        "w^1_22",
        "w^1_23",
        "b_11",
        "b_12",
        "b_13",
    ]
    assert (zero[0].epoch, zero[0].step) == (1, 1)
    assert zero[0].message == (
        "w^1_11: gradient zero to working precision from epoch 1, step 1; adam turns rounding noise into "
        "steps; every step agrees from the same state"
    )


@pytest.mark.parametrize(
    ("spec", "kind", "fires"),
    [
        pytest.param(SYMMETRIC, "zero-gradient", True, id="zero-gradient-fires"),
        pytest.param(CHAOTIC, "zero-gradient", False, id="zero-gradient-quiet"),
        pytest.param(CHAOTIC, "branch", True, id="branch-fires"),
        pytest.param(SYMMETRIC, "branch", False, id="branch-quiet"),
        pytest.param(CHAOTIC, "ill-conditioned", True, id="ill-conditioned-fires"),
        pytest.param(SYMMETRIC, "ill-conditioned", False, id="ill-conditioned-quiet"),
        pytest.param(SYMMETRIC, "amplified", True, id="amplified-fires"),
        pytest.param(CHAOTIC, "amplified", False, id="amplified-quiet"),
    ],
)
def test_each_rounding_kind_fires_and_stays_quiet(spec: Spec, kind: str, fires: bool) -> None:
    assert (kind in kinds(judged(spec))) is fires


def test_a_run_that_stays_within_the_tolerance_is_never_judged_per_step() -> None:
    """Init random breaks the symmetry: free-running matches, and no per-step check is made."""
    result = compare(SYMMETRIC.with_(init="random"))
    assert result.verdict in ("match", "identical")
    assert result.step_check is None
    steps = per_step(SYMMETRIC.with_(init="random"), "minibatch", initial_params(SYMMETRIC.with_(init="random")))
    assert steps.holds
    assert steps.zero_gradient == {}
    assert steps.branches == {}


def test_a_step_that_does_not_agree_is_a_mismatch_whatever_rounding_did_elsewhere() -> None:
    """The symmetric start with Adam written as PyTorch writes it: the hidden layer's gradients are
    noise there too, yet the first step is off by more than its bound, so nothing excuses it."""
    spec = SYMMETRIC.with_(epochs=3)
    result = compare(spec, "adam-pytorch")
    assert result.verdict.startswith("MISMATCH from epoch ")
    assert result.step_check is not None
    assert result.step_check.first_over is not None
    assert result.step_check.first_over[:2] == (1, 1)
    assert result.step_check.rounding == ()


SYMMETRIC_ARGS = [
    "--layers", "2,3,3", "--activations", "tanh,softmax", "--loss", "categorical_crossentropy",
    "--optimizer", "adam", "--lr", "0.01", "--batch-size", "2", "--rows", "6", "--epochs", "20",
    "--dtype", "float64",
]  # fmt: skip


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    from comparisons.cli import main

    status = main(list(argv))
    return status, capsys.readouterr().out


def test_the_json_names_what_rounding_decided(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_cli(capsys, *SYMMETRIC_ARGS, "--init", "seed", "--json")
    assert status == 0
    (run,) = json.loads(out)["runs"]
    assert run["verdict"] == "match (per step; free-running separates from epoch 1, zero-gradient, amplified)"
    assert run["per_step"]["holds"] is True
    assert run["per_step"]["first_over"] is None
    assert {r["kind"] for r in run["rounding"]} == {"zero-gradient", "amplified"}
    assert run["rounding"][0] | {"message": ""} == {
        "parameter": "w^1_11",
        "kind": "zero-gradient",
        "epoch": 1,
        "step": 1,
        "message": "",
    }
    assert run["rounding"][-1]["parameter"] is None  # the run as a whole


def test_the_json_of_a_run_within_the_tolerance_has_no_per_step_check(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_cli(capsys, *SYMMETRIC_ARGS, "--init", "random", "--json")
    assert status == 0
    (run,) = json.loads(out)["runs"]
    assert (run["per_step"], run["rounding"]) == (None, [])


def test_the_table_says_what_the_steps_showed(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_cli(capsys, *SYMMETRIC_ARGS, "--init", "seed")
    assert status == 0
    assert "every step agrees with Keras's from the same state" in out
    assert "  zero-gradient: 6 more parameters, the same way" in out
    assert out.endswith("1 of 1 runs match Keras: 0 after every epoch, 1 step by step from Keras's state\n")
    status, out = run_cli(capsys, *SYMMETRIC_ARGS, "--init", "seed", "--implementation", "adam-pytorch")
    assert status == 1
    assert "the step at epoch 1, step 1 is off at w^1_11 by more than its derived rounding bound: not rounding" in out


def _loss_summed(values: np.ndarray) -> np.floating:
    total: np.floating = np.sum(values)
    return total


class _AdamForgetsM(Adam):
    """m' is used for the step but never stored: the next step starts from the old m."""

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        m_before = self.slot("m", key, w).copy()
        new = super().update(key, w, g)
        self.state["m"][key] = m_before
        return new


class _AdamNeverCounts(Adam):
    """The step count never advances: the bias correction stays at t = 1."""

    def apply(self, params: Params, grads: Params) -> Params:
        return {key: self.update(key, params[key], grads[key]) for key in params}


# What a step leaves besides the weights: each wrong alone, the new weights right from Keras's state
BEYOND_THE_WEIGHTS = {
    "loss": Pieces(batch_loss=_loss_summed),
    "the optimizer's slot m of W1": Pieces(optimizers=OPTIMIZERS | {"adam": _AdamForgetsM}),
    "the optimizer's step count (0, Keras's 1)": Pieces(optimizers=OPTIMIZERS | {"adam": _AdamNeverCounts}),
}


@pytest.mark.parametrize(
    "named", BEYOND_THE_WEIGHTS, ids=["loss-reported-summed", "slot-never-stored", "count-never-advanced"]
)
def test_a_step_is_checked_beyond_its_weights(named: str) -> None:
    """Each step starts from Keras's weights, slots and count, so a slot never written back, a count
    never advanced or a loss reported wrong would hide there: each is compared with Keras's too."""
    spec = Spec(
        (2, 3, 1),
        ("tanh", "linear"),
        optimizer=OptimizerConfig("adam", 0.01),
        batch_size=2,
        rows=6,
        epochs=3,
        init="random",
    )
    steps = per_step(spec, BEYOND_THE_WEIGHTS[named], initial_params(spec))
    assert steps.first_over == (1, 1, named)
