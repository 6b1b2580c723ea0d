"""The per-parameter diagnosis: every finding kind, the known bugs, and realistic mistakes typed from scratch.

Each case is a step file a user might write, the template of tests/user_steps.py
with some lines changed, audited in this process (the Keras side computed once
per run spec) under every init; the assertion is the exact list of findings:
(kind, parameters, other, updated, factor, layer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comparisons.audit import audit, keras_side, measure
from comparisons.data import spec_arrays
from comparisons.formulas.gradients import finite_differences
from comparisons.spec import INITS, Spec, row_order
from comparisons.tolerances import DIAGNOSIS_RTOL
from manual import from_document_order
from tests.user_steps import BUGGY_LINES, bugs_for_problem, user_source

W1 = ["w^1_11", "w^1_12", "w^1_21", "w^1_22"]
HIDDEN = [*W1, "b_11", "b_12"]
OUTPUT = ["w^2_11", "w^2_21", "b_21"]
EVERY = HIDDEN + OUTPUT
EPOCHS = 10

Found = tuple[str, list[str], str | None, bool | None, float | None, int | None]


def found(kind: str, parameters: list[str], **extra: Any) -> Found:
    return (kind, parameters, extra.get("other"), extra.get("updated"), extra.get("factor"), extra.get("layer"))


def diagnose_source(
    tmp_path: Path, source: str, problem: str, inits: list[str] | None = None, **spec: Any
) -> tuple[str, list[Found]]:
    path = tmp_path / "step.py"
    path.write_text(source)
    base = Spec.document(problem=problem, epochs=spec.pop("epochs", EPOCHS), **spec)
    result = audit(path, "step", base, inits or list(INITS), memory=None, known_bugs=False)
    return result.verdict, [(f.kind, f.parameters, f.other, f.updated, f.factor, f.layer) for f in result.findings]


def findings(tmp_path: Path, problem: str, changes: dict[str, str], **spec: Any) -> list[Found]:
    verdict, result = diagnose_source(tmp_path, user_source(problem, changes), problem, **spec)
    assert (verdict == "match") == (result == [])
    return result


def swapped(a: str, b: str) -> list[Found]:
    return [found("other-gradient", [a], other=b), found("other-gradient", [b], other=a)]


STALE = found("stale-weights", HIDDEN, layer=2)
SWAP = swapped("w^1_12", "w^1_21")

# The known bugs, as tests/user_steps.py writes them: the findings that describe each.
KNOWN = {
    "b2-from-W2": [found("from-other-parameter", ["b_21"], other="w^2_21", updated=False)],
    "W2-updated-first": [STALE],
    "W1-indices-swapped": SWAP,
    "loss-after-update": [found("loss-after-update", ["loss"])],
    "factor-two-dropped": [found("scaled", EVERY, factor=0.5)],
    # with linear hidden neurons, taking the other neuron's output weight is taking the other neuron's gradient
    "hidden-error-crossed-regression": [
        *swapped("w^1_11", "w^1_12"),
        *swapped("w^1_21", "w^1_22"),
        *swapped("b_11", "b_12"),
    ],
    # with sigmoid ones it is not another parameter's gradient, nor a constant factor of the right one
    "hidden-error-crossed-classification": [found("wrong", HIDDEN)],
    "sigmoid-derivative-dropped": [found("wrong", HIDDEN)],
}


@pytest.mark.parametrize(
    ("problem", "bug"),
    [pytest.param(p, bug, id=f"{p}-{bug}") for p in ("regression", "classification") for bug in bugs_for_problem(p)],
)
def test_each_known_bug_gets_the_findings_that_describe_it(tmp_path: Path, problem: str, bug: str) -> None:
    expected = KNOWN.get(bug) or KNOWN[f"{bug}-{problem}"]
    assert findings(tmp_path, problem, BUGGY_LINES[bug]) == expected


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_known_bugs_together_get_every_finding(tmp_path: Path, problem: str) -> None:
    changes = {**BUGGY_LINES["W1-indices-swapped"], **BUGGY_LINES["b2-from-W2"]}
    changes["e * W2[:, 0] * SLOPE  #@delta"] = "e * W2_new[:, 0] * SLOPE  #@delta"  # and W2 updated first
    assert findings(tmp_path, problem, changes) == [
        found("from-other-parameter", ["b_21"], other="w^2_21", updated=False),
        STALE,
        *SWAP,
    ]


LR_TIMES_10 = {"def step(params, x, y, lr):\n": "def step(params, x, y, lr):\n    lr = lr * 10\n"}

# (id, problems, changed lines, findings): one per kind at least, then mistakes seen in learners' notebooks
CASES: list[tuple[str, tuple[str, ...], dict[str, str], list[Found]]] = [
    (
        "not-updated: a bias left as it was",
        ("regression", "classification"),
        {"b1 - lr * delta  #@b1": "b1  #@b1"},
        [found("not-updated", ["b_11", "b_12"])],
    ),
    (
        "sign: gradient ascent on the output layer",
        ("regression", "classification"),
        {"W2_new = W2 - lr * e": "W2_new = W2 + lr * e"},
        [found("sign", ["w^2_11", "w^2_21"], factor=-1.0)],
    ),
    (
        "scaled: a learning rate 10x too large",
        ("regression", "classification"),
        LR_TIMES_10,
        [found("scaled", EVERY, factor=10.0)],
    ),
    (
        "scaled: the learning rate hard-coded 10x too small",
        ("regression",),
        {"def step(params, x, y, lr):\n": "def step(params, x, y, lr):\n    lr = 0.0001\n"},
        [found("scaled", EVERY, factor=0.1)],
    ),
    (
        "scaled: only the output bias's step doubled",
        ("regression", "classification"),
        {"b2 - lr * e  #@b2": "b2 - 2 * lr * e  #@b2"},
        [found("scaled", ["b_21"], factor=2.0)],
    ),
    (
        "from-other-parameter: b_21 rebuilt from the new w^2_11",
        ("regression", "classification"),
        {"b2 - lr * e  #@b2": "W2_new[0] - lr * e  #@b2"},
        [found("from-other-parameter", ["b_21"], other="w^2_11", updated=True)],
    ),
    (
        "from-other-parameter: a bias overwritten with the other neuron's update",
        ("regression", "classification"),
        {"b1 - lr * delta  #@b1": "b1 - lr * delta\n    b1_new[0] = b1_new[1]  #@b1"},
        [found("from-other-parameter", ["b_11"], other="b_12", updated=True)],
    ),
    (
        "other-gradient: both hidden biases take the first neuron's gradient",
        ("regression", "classification"),
        {"b1 - lr * delta  #@b1": "b1 - lr * delta[0]  #@b1"},
        [found("other-gradient", ["b_12"], other="b_11")],
    ),
    (
        "stale and swapped, with the learning rate 10x",
        ("regression", "classification"),
        {
            **LR_TIMES_10,
            **BUGGY_LINES["W1-indices-swapped"],
            **BUGGY_LINES["W2-updated-first"],
        },
        [STALE, found("scaled", EVERY, factor=10.0), *SWAP],
    ),
    (
        "wrong: (1 - A*X) typed for (1 - A)*X",
        ("classification",),
        {"np.outer(x, delta)  #@W1": "np.outer(x, e * W2[:, 0] * h) * (1 - np.outer(x, h))  #@W1"},
        [found("wrong", W1)],
    ),
    (
        "wrong: the hidden error multiplied by the input twice",
        ("regression",),
        {"np.outer(x, delta)  #@W1": "np.outer(x * x, delta)  #@W1"},
        [found("wrong", W1)],
    ),
]


@pytest.mark.parametrize(
    ("problem", "changes", "expected"),
    [pytest.param(p, changes, expected, id=f"{p}-{name}") for name, ps, changes, expected in CASES for p in ps],
)
def test_findings(tmp_path: Path, problem: str, changes: dict[str, str], expected: list[Found]) -> None:
    assert findings(tmp_path, problem, changes) == expected


ONE_LAYER = "    y_hat = ACT(x[0] * W1[0, 0] + x[1] * W1[1, 0] + b1[0])  # the hidden layer only\n"
FIRST_LAYER_FOUR_TIMES = "    for _ in range(3):\n        h = ACT(h[0] * W1[0] + h[1] * W1[1] + b1)\n"


@pytest.mark.parametrize(
    ("problem", "insert_after", "line"),
    [
        pytest.param(p, after, line, id=f"{p}-{name}")
        for p in ("regression", "classification")
        for name, after, line in [
            ("one-layer-only", "# O_11, O_12\n", None),
            ("first-layer-four-times", "# O_11, O_12\n", FIRST_LAYER_FOUR_TIMES),
        ]
    ],
)
def test_a_wrong_forward_pass_is_said_first(tmp_path: Path, problem: str, insert_after: str, line: str | None) -> None:
    source = user_source(problem)
    act = "(lambda z: 1 / (1 + np.exp(-z)))" if problem == "classification" else ""
    if line is None:  # replace the output neuron by the first hidden one
        old = source.split("\n")[7]
        assert old.startswith("    y_hat =")
        source = source.replace(old + "\n", ONE_LAYER.replace("ACT", act))
    else:
        source = source.replace(insert_after, insert_after + line.replace("ACT", act))
    verdict, result = diagnose_source(tmp_path, source, problem)
    assert verdict == "diverged"
    assert result[0] == found("forward", ["loss"])
    assert {kind for kind, *_ in result} <= {"forward", "wrong", "scaled", "other-gradient", "sign", "stale-weights"}


NOTEBOOK_STEP = '''
import numpy as np


def step(params, x, y, lr):
    """Notebook style: biases as columns, every parameter updated by its own line, in place."""
    p = {"W1": params["W1"].copy(), "b1": params["b1"].reshape(2, 1).copy(),
         "W2": params["W2"].copy(), "b2": params["b2"].reshape(1, 1).copy()}
    X = x.reshape(2, 1)
    A1 = np.dot(p["W1"].T, X) + p["b1"]
    y_hat = (np.dot(p["W2"].T, A1) + p["b2"])[0][0]
    g = -2 * (y - y_hat)
    W2_11 = p["W2"][0][0] - lr * g * A1[0][0]
    W2_21 = p["W2"][1][0] - lr * g * A1[1][0]
    OUTPUT_LINES
    p["W1"][0][0] = p["W1"][0][0] - lr * g * p["W2"][0][0] * X[0][0]
    p["W1"][1][0] = p["W1"][1][0] - lr * g * p["W2"][0][0] * X[1][0]
    p["b1"][0][0] = p["b1"][0][0] - lr * g * p["W2"][0][0]
    p["W1"][0][1] = p["W1"][0][1] - lr * g * p["W2"][1][0] * X[0][0]
    p["W1"][1][1] = p["W1"][1][1] - lr * g * p["W2"][1][0] * X[1][0]
    p["b1"][1][0] = p["b1"][1][0] - lr * g * p["W2"][1][0]
    OUTPUT_AFTER
    return p, (y - y_hat) ** 2
'''

RIGHT_OUTPUT = 'p["b2"][0][0] = p["b2"][0][0] - lr * g'
RIGHT_AFTER = 'p["W2"][0][0], p["W2"][1][0] = W2_11, W2_21'


def test_output_lines_writing_into_w1_and_b1(tmp_path: Path) -> None:
    """The output layer's three lines typed with W1 and b1: the hidden lines after them start from
    the output layer's updated values, and W2 and b2 never change."""
    wrong_rows = (
        'p["W1"][0][0] = p["W2"][0][0] - lr * g * A1[0][0]\n'
        '    p["W1"][1][0] = p["W2"][1][0] - lr * g * A1[1][0]\n'
        '    p["b1"][0][0] = p["b2"][0][0] - lr * g'
    )
    source = NOTEBOOK_STEP.replace("OUTPUT_LINES", wrong_rows).replace("OUTPUT_AFTER", "")
    _, result = diagnose_source(tmp_path, source, "regression")
    assert result == [
        found("not-updated", OUTPUT),
        found("from-other-parameter", ["w^1_11"], other="w^2_11", updated=True),
        found("from-other-parameter", ["w^1_21"], other="w^2_21", updated=True),
        found("from-other-parameter", ["b_11"], other="b_21", updated=True),
    ]


def test_the_learner_example_gets_three_findings_the_catalogue_cannot_name(tmp_path: Path) -> None:
    source = (Path(__file__).resolve().parent.parent / "examples" / "learner_regression.py").read_text()
    assert diagnose_source(tmp_path, source, "regression") == (
        "diverged",
        [
            found("not-updated", ["b_11", "b_12"]),
            found("from-other-parameter", ["b_21"], other="w^2_11", updated=True),
            found("scaled", [*W1, *OUTPUT], factor=10.0),
        ],
    )


def test_the_notebook_style_in_column_layout_is_correct(tmp_path: Path) -> None:
    source = NOTEBOOK_STEP.replace("OUTPUT_LINES", RIGHT_OUTPUT).replace("OUTPUT_AFTER", RIGHT_AFTER)
    assert diagnose_source(tmp_path, source, "regression") == ("match", [])


@pytest.mark.parametrize(
    ("problem", "example"),
    [
        pytest.param("regression", "template", id="regression-template"),
        pytest.param("classification", "template", id="classification-template"),
        pytest.param("regression", "correct_regression.py", id="regression-vectorized"),
        pytest.param("classification", "correct_classification.py", id="classification-formula-by-formula"),
    ],
)
def test_correct_steps_in_every_style_have_no_findings(tmp_path: Path, problem: str, example: str) -> None:
    source = (
        user_source(problem)
        if example == "template"
        else (Path(__file__).resolve().parent.parent / "examples" / example).read_text()
    )
    assert diagnose_source(tmp_path, source, problem, epochs=30) == ("match", [])


@pytest.mark.parametrize("init", INITS)
def test_a_stale_w2_is_caught_under_each_init_alone(tmp_path: Path, init: str) -> None:
    """Under init keras alone, the W2-updated-first step once passed: its trajectory stays within
    1e-10 of Keras's. Judged step by step from Keras's state, it is over 100 times over the line."""
    verdict, result = diagnose_source(
        tmp_path, user_source("classification", BUGGY_LINES["W2-updated-first"]), "classification", [init]
    )
    assert verdict == "diverged"
    [(kind, parameters, *rest)] = result
    # under keras's init one hidden neuron's output weight barely moves: only the other's gradients show it
    assert (kind, rest) == ("stale-weights", [None, None, None, 2])
    assert set(parameters) <= set(HIDDEN)
    assert parameters == (HIDDEN if init != "keras" else ["w^1_12", "w^1_22", "b_12"])


@pytest.mark.parametrize(
    ("problem", "bug", "init", "seed"),
    [
        pytest.param(p, bug, init, seed, id=f"{p}-{bug}-{init}-seed{seed}")
        for p in ("regression", "classification")
        for bug in bugs_for_problem(p)
        if bug != "loss-after-update"
        for init in INITS
        for seed in range(10)
        if not (bug == "hidden-error-crossed" and init == "seed")
    ],
)
@pytest.mark.long
def test_no_known_bug_passes_under_any_single_init(
    tmp_path: Path, problem: str, bug: str, init: str, seed: int
) -> None:
    path = tmp_path / "step.py"
    path.write_text(user_source(problem, BUGGY_LINES[bug]))
    _, score = measure(path, Spec.document(problem=problem, epochs=50, init=init, seed=seed))
    assert score.max() > 10, f"{bug}: the largest deviation is {score.max():.3g} of the tolerance"


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_symmetric_init_hides_crossed_hidden_errors_and_says_so(tmp_path: Path, problem: str) -> None:
    """With every weight 0.1 the hidden neurons are interchangeable on every state the run visits:
    the crossed step computes the same function there, so no audit under init seed alone can see it."""
    source = user_source(problem, BUGGY_LINES["hidden-error-crossed"])
    assert diagnose_source(tmp_path, source, problem, ["seed"]) == ("match", [])
    assert diagnose_source(tmp_path, source, problem, ["random"])[0] == "diverged"


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_the_true_gradients_are_the_finite_differences(problem: str) -> None:
    """The diagnosis's truth, taped through Keras at every teacher-forced state, against central
    differences of the numpy forward pass: two independent derivatives of the same loss."""
    spec = Spec.document(problem=problem, epochs=3, init="random", seed=1)
    side = keras_side(spec)
    arch = spec.definition.arch
    X, Y = spec_arrays(spec)
    y = Y[:, 0]
    rows = row_order(spec, len(X)).reshape(-1)
    states = [from_document_order(arch, state) for state in side.before]
    fd = finite_differences(arch, states, X[rows], y[rows])
    np.testing.assert_allclose(side.grads, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_correct_steps_stay_far_under_the_line(tmp_path: Path) -> None:
    """The measured margin (tests/measure_diagnosis.py has the full table): a correct step's
    largest deviation is about 1% of the tolerance in float64."""
    path = tmp_path / "step.py"
    for problem in ("regression", "classification"):
        path.write_text(user_source(problem))
        for init in INITS:
            distance, score = measure(path, Spec.document(problem=problem, epochs=EPOCHS, init=init, seed=3))
            assert score.max() < 0.05
            assert distance.max() < DIAGNOSIS_RTOL["float64"] / 10
    assert np.isfinite(score).all()
