"""The catalogue of learners' optimizer mistakes: each one really is a mistake, not a convention in disguise.

Every variant is run for a few steps on gradients as a network's are (of order 1, 1e-8,
1e2, exactly 0, of both signs, a different one each step) next to every correct
convention of its optimizer (manual/batch/conventions.py), and the step where it first
parts from each is asserted: a relative difference in the weights above 1e-6.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from manual.batch.conventions import CONVENTIONS, TextbookAdam
from manual.batch.optimizer_bugs import KINDS, OPTIMIZER_BUGS, LearnerAdam
from manual.batch.optimizers import Optimizer, OptimizerConfig

pytestmark = pytest.mark.filterwarnings("error")  # the learner's 0 / 0 is NaN, silently, as in their notebook

STEPS = 6
DIFFERS = 1e-6  # relative, in the weights: above it, two optimizers have parted
DTYPES = ("float64", "float32")

# The audit's names of the optimizers, and Keras's arguments (its defaults; momentum 0.9).
CONFIGS = {
    "sgd": OptimizerConfig("sgd"),
    "momentum": OptimizerConfig("sgd", momentum=0.9),
    "adam": OptimizerConfig("adam"),
    "rmsprop": OptimizerConfig("rmsprop"),
    "adagrad": OptimizerConfig("adagrad"),
}

# The step at which each variant first parts from each convention of its optimizer. A 2 is the
# mistake invisible on the first step: a state that starts from 0 anyway, a bias correction that
# is right at t = 1, m_hat = g at t = 1. Keras's Adam parts from Kingma and Ba's at step 1 where a
# gradient is near epsilon (1e-8 here): it adds epsilon before the bias correction.
FIRST_SHOWS: dict[str, dict[str, int]] = {
    "epsilon-inside-sqrt": {"keras": 1, "textbook": 1},
    "epsilon-outside-fraction": {"keras": 1, "textbook": 1},
    "epsilon-added-to-step": {"keras": 1, "textbook": 1},
    "bias-correction-missing": {"keras": 1, "textbook": 1},
    "bias-correction-without-power": {"keras": 1, "textbook": 2},
    "t-off-by-one": {"keras": 1, "textbook": 1},
    "t-is-the-layer": {"keras": 1, "textbook": 1},
    "second-moment-uncorrected": {"keras": 1, "textbook": 1},
    "second-moment-with-beta1": {"keras": 1, "textbook": 1},
    "second-moment-of-g": {"keras": 1, "textbook": 1},
    "square-root-missing": {"keras": 1, "textbook": 1},
    "first-moment-without-gradient": {"keras": 1, "textbook": 1},
    "step-with-gradient": {"keras": 1, "textbook": 2},
    "adam-state-not-carried": {"keras": 1, "textbook": 2},
    "learning-rate-twice": {"keras": 1, "textbook": 1},
    "momentum-state-not-carried": {"keras": 1, "deeplearning.ai": 2, "pytorch": 1},
    "momentum-step-with-gradient": {"keras": 2, "deeplearning.ai": 1, "pytorch": 2},
    "momentum-sign": {"keras": 1, "deeplearning.ai": 1, "pytorch": 1},
    "rmsprop-rho-swapped": {"keras": 1, "pytorch": 1},
    "rmsprop-square-root-missing": {"keras": 1, "pytorch": 1},
    "rmsprop-state-not-carried": {"keras": 2, "pytorch": 1},
    "adagrad-sum-not-accumulated": {"keras": 1, "pytorch": 2},
    "sgd-update-dropped": {"keras": 1},
    "sgd-sign": {"keras": 1},
}

# Conventions that are the same updates rounded differently (conventions.py's PyTorchMomentum):
# measured 2e-15 apart in float64, 5e-7 in float32 after six steps.
SAME = {("momentum", "keras", "pytorch")}


def gradients(dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    steps = []
    for step in range(STEPS):
        g = np.concatenate(
            [
                rng.normal(size=4),  # of order 1
                1e-8 * rng.normal(size=4),  # below epsilon
                1e2 * rng.normal(size=4),  # large
                np.zeros(2),  # a weight whose gradient is always 0
                [float(step % 2 == 0)],  # 1, 0, 1, 0, ...
            ]
        )
        steps.append(g.astype(dtype))
    return steps


def trajectory(form: type[Optimizer], optimizer: str, dtype: str) -> list[np.ndarray]:
    """The weights after each step, from the same start and the same gradients."""
    run = form(CONFIGS[optimizer], np.dtype(dtype))
    w = np.random.default_rng(1).normal(size=15).astype(dtype)
    weights = []
    for g in gradients(dtype):
        w = run.apply({"W2": w}, {"W2": g})["W2"]  # a layer-2 weight: t-is-the-layer's l is 2
        weights.append(w)
    return weights


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """The largest relative difference; a NaN against a number is infinitely far, NaN against NaN equal."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(a.astype(np.float64) - b) / np.maximum(np.abs(a), np.abs(b))
    d = np.where(a == b, 0.0, d)
    d = np.where(np.isnan(a) & np.isnan(b), 0.0, d)
    d = np.where(np.isnan(a) != np.isnan(b), np.inf, d)
    return float(d.max())


def first_difference(a: list[np.ndarray], b: list[np.ndarray]) -> int | None:
    """The first step (from 1) where the two trajectories part, None if they never do."""
    return next((step for step, (x, y) in enumerate(zip(a, b, strict=True), 1) if relative(x, y) > DIFFERS), None)


def test_the_table_is_the_catalogue() -> None:
    assert set(FIRST_SHOWS) == set(OPTIMIZER_BUGS)
    for name, bug in OPTIMIZER_BUGS.items():
        assert bug.name == name
        assert bug.kind in KINDS, name
        assert bug.optimizer in CONVENTIONS, name
        assert set(FIRST_SHOWS[name]) == set(CONVENTIONS[bug.optimizer]), name
        assert bug.description, name
        assert "\n" not in bug.description, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_learner_adam_is_textbook_adam(dtype: str) -> None:
    ours, theirs = trajectory(LearnerAdam, "adam", dtype), trajectory(TextbookAdam, "adam", dtype)
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPTIMIZER_BUGS))
def test_each_mistake_parts_from_every_convention(name: str, dtype: str) -> None:
    bug = OPTIMIZER_BUGS[name]
    wrong, again = trajectory(bug.form, bug.optimizer, dtype), trajectory(bug.form, bug.optimizer, dtype)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(wrong, again, strict=True))  # NaN too, where NaN
    shows = {
        convention: first_difference(wrong, trajectory(form, bug.optimizer, dtype))
        for convention, (form, _) in CONVENTIONS[bug.optimizer].items()
    }
    assert shows == FIRST_SHOWS[name]


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_two_mistakes_compute_the_same(dtype: str) -> None:
    for a, b in itertools.combinations(OPTIMIZER_BUGS.values(), 2):
        if a.optimizer == b.optimizer:
            pair = trajectory(a.form, a.optimizer, dtype), trajectory(b.form, b.optimizer, dtype)
            assert first_difference(*pair) is not None, (a.name, b.name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conventions_part_where_expected(dtype: str) -> None:
    for optimizer, conventions in CONVENTIONS.items():
        for (a, (form_a, _)), (b, (form_b, _)) in itertools.combinations(conventions.items(), 2):
            step = first_difference(trajectory(form_a, optimizer, dtype), trajectory(form_b, optimizer, dtype))
            assert step == (None if (optimizer, a, b) in SAME else 1), (optimizer, a, b)
