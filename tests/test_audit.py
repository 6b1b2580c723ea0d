"""``python -m comparisons audit``: a user's own step file against Keras, after every step.

Every known bug is written as a user would write it (tests/user_steps.py, not by
calling manual.row.bugs), and must be reported with the right first divergence and
named by the known-bug catalogue; correct steps in several styles must pass;
every kind of bad input must get exit status 2 and one line (and, with --json,
an error object on stdout). tests/test_diagnosis.py holds the findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comparisons.cli import main
from tests.user_steps import bugs_for_problem, user_file

EPOCHS = "10"

W1_AND_B1 = ["w^1_11", "w^1_12", "w^1_21", "w^1_22", "b_11", "b_12"]
ALL_PARAMETERS = [*W1_AND_B1[:4], "b_11", "b_12", "w^2_11", "w^2_21", "b_21"]

# bug -> (init, epoch, step, the values that differ there): the first divergence the audit must report
EXPECTED = {
    "b2-from-W2": ("seed", 1, 1, ["b_21"]),
    "W2-updated-first": ("seed", 1, 1, W1_AND_B1),
    # the first row is (8, 8): with x_1 = x_2 and every weight 0.1 the swap changes nothing until row 2
    "W1-indices-swapped": ("seed", 1, 2, ["w^1_12", "w^1_21"]),
    # invisible with every weight 0.1: the first init to expose it is random
    "hidden-error-crossed": ("random", 1, 1, W1_AND_B1),
    "sigmoid-derivative-dropped": ("seed", 1, 1, W1_AND_B1),
    "factor-two-dropped": ("seed", 1, 1, ALL_PARAMETERS),  # the loss is taken before the update: still right
    "loss-after-update": ("seed", 1, 1, ["loss"]),
}

CASES = [
    pytest.param(problem, bug, id=f"{problem}-{bug}")
    for problem in ("regression", "classification")
    for bug in bugs_for_problem(problem)
]


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["audit", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def audit_json(capsys: pytest.CaptureFixture[str], path: Path, problem: str, *extra: str) -> tuple[int, dict[str, Any]]:
    status, out, err = audit(capsys, str(path), "--problem", problem, "--epochs", EPOCHS, "--json", *extra)
    assert err == ""
    return status, json.loads(out)


@pytest.mark.parametrize(("problem", "bug"), CASES)
def test_known_bug_written_by_a_user_is_found_and_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem: str, bug: str
) -> None:
    status, report = audit_json(capsys, user_file(tmp_path, problem, bug), problem)
    assert (status, report["verdict"]) == (1, "diverged")
    init, epoch, step, names = EXPECTED[bug]
    first = report["first_divergence"]
    assert (first["init"], first["epoch"], first["step"]) == (init, epoch, step)
    assert [p["name"] for p in first["parameters"]] == names
    for p in first["parameters"]:
        assert p["distance"] > report["threshold"]
        assert p["user"] != p["keras"]
    assert report["diagnosis"]["known_bugs"] == [bug]
    assert report["diagnosis"]["findings"]


def test_a_finding_in_json_has_every_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, report = audit_json(capsys, user_file(tmp_path, "regression", "factor-two-dropped"), "regression")
    [finding] = report["diagnosis"]["findings"]
    assert status == 1
    assert finding == {
        "kind": "scaled",
        "parameters": ["w^1_11", "w^1_12", "w^1_21", "w^1_22", "b_11", "b_12", "w^2_11", "w^2_21", "b_21"],
        "indices": [
            {"array": "W1", "index": [0, 0]},
            {"array": "W1", "index": [0, 1]},
            {"array": "W1", "index": [1, 0]},
            {"array": "W1", "index": [1, 1]},
            {"array": "b1", "index": [0]},
            {"array": "b1", "index": [1]},
            {"array": "W2", "index": [0, 0]},
            {"array": "W2", "index": [1, 0]},
            {"array": "b2", "index": [0]},
        ],
        "other": None,
        "updated": None,
        "factor": 0.5,
        "layer": None,
        "first": {"init": "seed", "epoch": 1, "step": 1},
        "message": "every update is 0.5 x the right one: the effective learning rate is 0.5 x lr = 0.0005; "
        "on squared error that is the missing factor 2 of dL/dy_hat = -2(y - y_hat)",
    }


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_the_template_without_bugs_matches(capsys: pytest.CaptureFixture[str], tmp_path: Path, problem: str) -> None:
    status, report = audit_json(capsys, user_file(tmp_path, problem), problem)
    assert (status, report["verdict"], report["first_divergence"]) == (0, "match", None)
    assert report["diagnosis"] == {"findings": [], "known_bugs": [], "per_parameter": True}
    assert [r["init"] for r in report["runs"]] == ["seed", "random", "keras"]
    assert max(r["max_distance"] for r in report["runs"]) < 1e-13


@pytest.mark.parametrize(
    ("example", "problem"),
    [
        pytest.param("correct_regression.py", "regression", id="vectorized"),
        pytest.param("correct_classification.py", "classification", id="formula-by-formula-mutating-in-place"),
    ],
)
def test_correct_examples_match(capsys: pytest.CaptureFixture[str], example: str, problem: str) -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / example
    status, out, _ = audit(capsys, str(path), "--problem", problem, "--epochs", EPOCHS)
    assert status == 0
    assert out.startswith(f"MATCH: {path}:step agrees with Keras after every step under every init")


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_the_notebooks_three_bugs_are_named_together(capsys: pytest.CaptureFixture[str], problem: str) -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / f"notebook_{problem}.py"
    status, report = audit_json(capsys, path, problem)
    assert status == 1
    assert report["diagnosis"]["known_bugs"] == ["b2-from-W2", "W2-updated-first", "W1-indices-swapped"]
    assert [(f["kind"], f["other"], f["updated"], f["layer"]) for f in report["diagnosis"]["findings"]] == [
        ("from-other-parameter", "w^2_21", True, None),
        ("stale-weights", None, None, 2),
        ("other-gradient", "w^1_21", None, None),
        ("other-gradient", "w^1_12", None, None),
    ]
    assert report["first_divergence"]["init"] == "seed"


def test_float32_and_a_single_init(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = user_file(tmp_path, "regression")
    status, report = audit_json(capsys, path, "regression", "--dtype", "float32", "--init", "random")
    assert (status, [r["init"] for r in report["runs"]], report["threshold"]) == (0, ["random"], 5e-5)


def test_a_single_init_is_named_and_a_stale_w2_caught_under_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ("--problem", "classification", "--epochs", EPOCHS, "--init", "keras")
    status, out, _ = audit(capsys, str(user_file(tmp_path, "classification")), *args)
    assert status == 0
    assert out.startswith(
        f"MATCH: {tmp_path / 'user_step.py'}:step agrees with Keras after every step under init keras ("
    )
    status, out, _ = audit(capsys, str(user_file(tmp_path, "classification", "W2-updated-first")), *args)
    assert status == 1
    assert "  init keras:  trajectory within the threshold, but from Keras's state the update differs" in out
    assert "First divergence (each step from Keras's state): init keras, epoch 1, step 1" in out
    assert (
        "  1. stale-weights, first at init keras, epoch 1, step 1\n     w^1_12 (W1[0, 1]), w^1_22 (W1[1, 1]), b_12"
        in (out)
    )
    assert out.rstrip().endswith("reproduces the whole trajectory under init keras.")


def test_function_name_after_a_colon(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(user_file(tmp_path, "regression").read_text().replace("def step(", "def my_update("))
    status, _, err = audit(capsys, f"{path}:my_update", "--problem", "regression", "--epochs", "2")
    assert (status, err) == (0, "")


def test_nan_is_a_divergence_where_it_first_appears(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nan_step.py"
    text = user_file(tmp_path, "regression").read_text()
    path.write_text(
        text.replace(
            "    return new, loss", "    if x[0] == 6:\n        new['b2'] = new['b2'] * np.nan\n    return new, loss"
        )
    )
    status, report = audit_json(capsys, path, "regression")
    first = report["first_divergence"]
    assert status == 1
    assert (first["init"], first["epoch"], first["step"], first["row"]) == ("seed", 1, 3, 2)
    assert (first["parameters"][0]["name"], first["parameters"][0]["array"], first["parameters"][0]["index"]) == (
        "b_21",
        "b2",
        [0],
    )
    assert first["parameters"][0]["distance"] == float("inf")
    assert report["diagnosis"]["known_bugs"] == []
    assert [(f["kind"], f["parameters"]) for f in report["diagnosis"]["findings"]] == [("wrong", ["b_21"])]


def _bad(tmp_path: Path, source: str | bytes) -> Path:
    path = tmp_path / "bad.py"
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_text(source)
    return path


GOOD_BODY = "    return ({'W1': params['W1'], 'b1': params['b1'], 'W2': params['W2'], 'b2': params['b2']}, 0.5)\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "not a Python source file (not UTF-8 text)", id="binary"),
        pytest.param(
            "def step(params, x, y, lr)\n    return params, 0\n",
            "not valid Python: expected ':' at line 1",
            id="syntax",
        ),
        pytest.param(
            "import numpy\n",
            "defines no function 'step', and none has the step's form (params, x, y, lr) -> (params, loss); "
            "it defines no function at all",
            id="no-function",
        ),
        pytest.param("step = 3\n", "'step' is a int, not a function", id="not-callable"),
        pytest.param(
            "def step(params, x):\n    pass\n",
            "step(params, x) cannot be called as step(params, x, y, lr)",
            id="signature",
        ),
        pytest.param(
            "raise RuntimeError('boom')\n", "importing it raised RuntimeError: boom (bad.py line 1)", id="import-raises"
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    if x[0] == 7:\n        return 1 / 0\n" + GOOD_BODY,
            "step raised ZeroDivisionError: division by zero (epoch 1, step 2) (bad.py line 3)",
            id="raises",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    return params\n",
            "step must return (params, loss), returned dict (epoch 1, step 1)",
            id="not-a-pair",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    return [1, 2], 0.5\n",
            "returned params is a list, not a dict (epoch 1, step 1)",
            id="not-a-dict",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    del params['b2']\n    return params, 0.5\n",
            "returned params lack 'b2' (epoch 1, step 1)",
            id="missing-key",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    params['W3'] = 0\n    return params, 0.5\n",
            "returned params have extra keys 'W3' (epoch 1, step 1)",
            id="extra-key",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    params['W2'] = params['W2'].T\n    return params, 0.5\n",
            "returned W2 has shape (1, 2), must be (2, 1) (epoch 1, step 1)",
            id="wrong-shape",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    params['b1'] = params['W1']\n    return params, 0.5\n",
            "returned b1 has shape (2, 2), must be (2,), or (2, 1) or (1, 2) (epoch 1, step 1)",
            id="ambiguous-bias",
        ),
        pytest.param(
            "import numpy as np\ndef step(params, x, y, lr):\n    big = np.ones(2**31)\n    return params, 0.5\n",
            "step ran out of memory: the limit is 256 MiB (--memory) (epoch 1, step 1) (bad.py line 3)",
            id="memory",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    return params, 'low'\n",
            "returned loss 'low' is not a number (epoch 1, step 1)",
            id="loss-text",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    return params, None\n",
            "returned loss None is not a number (epoch 1, step 1)",
            id="loss-none",
        ),
        pytest.param(
            "def step(params, x, y, lr):\n    while True:\n        pass\n",
            "step did not finish within 3 s, stopped at init seed while trying each layout and group of definitions "
            "(epoch 1, step 1); an endless loop?",
            id="endless-loop",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str | bytes, message: str
) -> None:
    path = _bad(tmp_path, source)
    argv = [str(path), "--problem", "regression", "--epochs", "2", "--timeout", "3", "--memory", "256"]
    status, out, err = audit(capsys, *argv)
    assert (status, out) == (2, "")
    assert err == f"python -m comparisons: error: {path}: {message}\n"


def test_json_errors_go_to_stdout_as_well(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A grader that reads stdout gets an object for every exit-2 case, bad options included."""
    path = _bad(tmp_path, "step = 3\n")
    status, out, err = audit(capsys, str(path), "--problem", "regression", "--json")
    message = f"{path}: 'step' is a int, not a function"
    assert (status, json.loads(out), err) == (
        2,
        {"verdict": "error", "error": message},
        f"python -m comparisons: error: {message}\n",
    )
    status, out, _ = audit(capsys, str(path), "--json")
    assert (status, json.loads(out)["verdict"]) == (2, "error")


ACCEPTED = """
import numpy as np


def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = x[0] * W1[0] + x[1] * W1[1] + b1
    y_hat = h[0] * W2[0, 0] + h[1] * W2[1, 0] + b2[0]
    e = -2 * (y - y_hat)
    return {
        "W1": (W1 - lr * np.outer(x, e * W2[:, 0])).tolist(),  # nested lists
        "b1": (b1 - lr * e * W2[:, 0]).reshape(BIAS_SHAPE),
        "W2": W2 - lr * e * h[:, None],
        "b2": SCALAR(b2[0] - lr * e),
    }, (y - y_hat) ** 2
"""


@pytest.mark.parametrize(
    ("bias_shape", "scalar"),
    [
        pytest.param("(2, 1)", "float", id="column-bias-python-float"),
        pytest.param("(1, 2)", "np.array", id="row-bias-0d-array"),
        pytest.param("(2,)", "lambda v: np.array([[v]])", id="1x1-array"),
    ],
)
def test_unambiguous_shapes_are_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bias_shape: str, scalar: str
) -> None:
    path = tmp_path / "shapes.py"
    path.write_text(ACCEPTED.replace("BIAS_SHAPE", bias_shape).replace("SCALAR", f"({scalar})"))
    status, report = audit_json(capsys, path, "regression")
    assert (status, report["verdict"]) == (0, "match")


def test_missing_file_and_bad_function_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = audit(capsys, str(tmp_path / "nope.py"), "--problem", "regression")
    assert (status, err) == (2, f"python -m comparisons: error: {tmp_path / 'nope.py'}: no such file\n")
    status, _, err = audit(capsys, f"{tmp_path / 'x.py'}:not-a-name", "--problem", "regression")
    assert status == 2
    assert "'not-a-name' is not a function name" in err
    status, _, err = audit(capsys, str(tmp_path / "x.py"))
    message = "give --problem (the document's network) or --layers (your own)"
    assert (status, err) == (2, f"python -m comparisons: error: {message}\n")


def test_a_step_edited_to_the_same_length_within_a_second_is_audited_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's import reuses __pycache__ wherever a source's size and whole-second mtime are the
    same: where bytecode is written (tox does not pass PYTHONDONTWRITEBYTECODE on), the second audit
    in one process ran the step as it was. The file is compiled afresh, and nothing written beside it."""
    import os
    import sys

    from comparisons.audit import audit as audit_file
    from comparisons.spec import Spec
    from manual.batch.optimizers import OptimizerConfig
    from tests.network_steps import network_step

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    network = Spec(
        (3, 4, 2), ("tanh", "linear"), optimizer=OptimizerConfig("sgd", 0.05), batch_size=2, rows=4, epochs=1
    )
    path = tmp_path / "step.py"
    kinds = []
    for layer in (1, 2):  # the same source but for one digit: LAYER = 1, then LAYER = 2
        path.write_text(network_step(network.activations, network.loss, "not-updated", layer))
        os.utime(path, (1_800_000_000, 1_800_000_000))  # edited within the same second
        result = audit_file(path, "step", network, ["random"], memory=None, known_bugs=False)
        kinds.append([(f.kind, f.parameters) for f in result.findings])
    assert kinds == [[("not-updated", ["b1"])], [("not-updated", ["b2"])]]
    assert not (tmp_path / "__pycache__").exists()
