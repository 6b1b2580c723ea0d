"""Audit a learner's notebook as it is, and the tutorial's own functions without an adapter.

Notebooks are written here cell by cell, as the tutorial's readers keep them:
definitions among cells that read a CSV from a Colab path, train for 10^9
epochs and plot. Only the definitions may run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comparisons.cli import main
from tests.user_steps import write_notebook

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EPOCHS = "6"

FORWARD = {
    "regression": """
def linear_forward(A_prev, W, b):
  return np.dot(W.T, A_prev) + b

def L_layer_forward(X, parameters):
  A = X
  L = len(parameters) // 2
  for l in range(1, L+1):
    A_prev = A
    A = linear_forward(A_prev, parameters['W' + str(l)], parameters['b' + str(l)])
  return A, A_prev
""",
    "classification": """
def sigmoid(Z):
  return 1 / (1 + np.exp(-Z))

def L_layer_forward(X, parameters):
  A = X
  L = len(parameters) // 2
  for l in range(1, L+1):
    A_prev = A
    A = sigmoid(np.dot(parameters['W' + str(l)].T, A_prev) + parameters['b' + str(l)])
  return A, A_prev
""",
}

# the error signal dL/dz at the output: -2(y - y_hat) for squared error, -(y - y_hat) for cross-entropy
ERROR = {"regression": "-2 * (y - y_hat)", "classification": "-(y - y_hat)"}
SLOPE = {"regression": "1", "classification": "A1 * (1 - A1)"}

CORRECT_UPDATE = """
def update_parameters(parameters, y, y_hat, A1, X, lr):
  e = ERROR
  W2 = parameters['W2'].copy()
  parameters['W2'] -= lr * e * A1
  parameters['b2'] -= lr * e
  delta = e * W2 * SLOPE
  parameters['W1'] -= lr * np.dot(X, delta.T)
  parameters['b1'] -= lr * delta
"""


def notebook(path: Path, *cells: str) -> Path:
    return write_notebook(path, *(("code", cell) for cell in cells))


def around(*definitions: str) -> tuple[str, ...]:
    """The definitions among the cells a notebook has around them, none of which may run."""
    return (
        "!pip install -q pandas\n%matplotlib inline\nimport numpy as np\nimport pandas as pd\n"
        "import matplotlib.pyplot as plt\nfrom google.colab import drive\nimport tensorflow as tf",
        "drive.mount('/content/drive')\ndf = pd.read_csv('/content/drive/MyDrive/missing.csv')",
        *definitions,
        "parameters = {}\nfor i in range(10**9):\n  for j in range(df.shape[0]):\n"
        "    y_hat, A1 = L_layer_forward(X, parameters)",
        "plt.plot(Loss)\nplt.show()",
    )


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(["audit", *argv, "--epochs", EPOCHS, "--json"])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_the_tutorial_notebook_as_it_circulates_reads_as_its_py_adaptation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """examples/tutorial_regression.ipynb, audited as it is (its CSV missing, its loop set to
    10^9 epochs, its plots), reports what the hand-made adapter of the same rules
    (examples/notebook_regression.py) reports."""
    path = tmp_path / "tutorial.ipynb"
    path.write_text((EXAMPLES / "tutorial_regression.ipynb").read_text().replace("epochs = 5", "epochs = 10**9"))
    status, nb, _ = audit(capsys, str(path), "--problem", "regression", "--contract", "tutorial")
    py_status, py, _ = audit(capsys, str(EXAMPLES / "notebook_regression.py"), "--problem", "regression")
    assert (status, py_status) == (1, 1)
    assert nb["first_divergence"] == py["first_divergence"]
    assert nb["diagnosis"] == py["diagnosis"]
    # 10**9 is no literal: the epochs assignment is skipped with the loop
    assert nb["notebook"] == {
        "code_cells": 9,
        "definitions": 6,
        "skipped_statements": 13,
        "order": "document",
        "cells": None,
    }
    assert py["notebook"] is None


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_the_tutorial_contract_on_a_corrected_notebook(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem: str
) -> None:
    update = CORRECT_UPDATE.replace("ERROR", ERROR[problem]).replace("SLOPE", SLOPE[problem])
    path = notebook(tmp_path / "mine.ipynb", *around(FORWARD[problem], update))
    status, report, err = audit(capsys, str(path), "--problem", problem, "--contract", "tutorial")
    assert (status, report["verdict"], err) == (0, "match", "")
    # kept: import numpy, two functions, update_parameters, and `parameters = {}` (a literal);
    # skipped: !pip, %matplotlib, four imports nothing kept uses, the two reading cells' statements,
    # the training loop, the two plotting statements
    assert report["notebook"] == {
        "code_cells": 6,
        "definitions": 5,
        "skipped_statements": 11,
        "order": "document",
        "cells": None,
    }


@pytest.mark.parametrize("problem", ["regression", "classification"])
def test_the_tutorial_contract_on_the_notebooks_update_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem: str
) -> None:
    """The rule as it circulates (b_21 from the new w^2_21, W2 updated first, the W1 indices
    swapped), with the learning rate hard-coded as the notebooks do, in a .py file."""
    rate = "0.001" if problem == "regression" else "0.0001"
    two = "2 * " if problem == "regression" else ""
    slope = {"regression": "", "classification": " * A1[J][0] * (1 - A1[J][0])"}[problem]
    lines = ["def update_parameters(parameters, y, y_hat, A1, X):", f"  lr = {rate}"]
    lines += [f"  parameters['W2'][{j}][0] += lr * {two}(y - y_hat) * A1[{j}][0]" for j in (0, 1)]
    lines += [f"  parameters['b2'][0][0] = parameters['W2'][1][0] + lr * {two}(y - y_hat)"]
    for j in (0, 1):
        hidden = f"lr * {two}(y - y_hat) * parameters['W2'][{j}][0]{slope.replace('J', str(j))}"
        lines += [f"  parameters['W1'][{j}][{i}] += {hidden} * X[{i}][0]" for i in (0, 1)]
        lines += [f"  parameters['b1'][{j}][0] += {hidden}"]
    path = tmp_path / "rule.py"
    path.write_text("import numpy as np\n" + FORWARD[problem] + "\n".join(lines) + "\n")
    status, report, _ = audit(capsys, str(path), "--problem", problem, "--contract", "tutorial")
    assert status == 1
    assert report["diagnosis"]["known_bugs"] == ["b2-from-W2", "W2-updated-first", "W1-indices-swapped"]
    assert [f["kind"] for f in report["diagnosis"]["findings"]] == [
        "from-other-parameter",
        "stale-weights",
        "other-gradient",
        "other-gradient",
    ]


def bad(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> str:
    status, report, err = audit(capsys, str(path), "--problem", "regression", *extra)
    assert (status, report["verdict"]) == (2, "error")
    assert err == f"python -m comparisons: error: {report['error']}\n"
    return str(report["error"])


def test_a_missing_forward_function_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    update = CORRECT_UPDATE.replace("ERROR", ERROR["regression"]).replace("SLOPE", "1")
    path = notebook(tmp_path / "nb.ipynb", *around(update))
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: defines no function 'L_layer_forward', and none has the forward pass's form "
        "(X, parameters) -> (y_hat, A1); it defines: update_parameters(parameters, y, y_hat, A1, X, lr) (cell 3); "
        "choose one with --forward NAME"
    )


def test_a_signature_that_fits_no_contract_says_which_was_tried(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = notebook(
        tmp_path / "nb.ipynb", *around(FORWARD["regression"], "def update_parameters(parameters, y):\n  pass")
    )
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: the tutorial contract needs L_layer_forward(X, parameters) -> (y_hat, A1) and "
        "update_parameters(parameters, y, y_hat, A1, X[, lr]); found update_parameters(parameters, y)"
    )


def test_definitions_that_raise_name_the_cell_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    update = (
        "import helpers_that_do_not_exist\n\n"
        "def update_parameters(p, y, y_hat, A1, X):\n  helpers_that_do_not_exist.go(p)"
    )
    path = notebook(tmp_path / "nb.ipynb", *around(FORWARD["regression"], update))
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: running its definitions raised ModuleNotFoundError: No module named 'helpers_that_do_not_exist' "
        "(nb.ipynb cell 4, line 1)"
    )


def test_a_definition_that_would_run_code_is_not_made(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A default value, a decorator or a class body is run when the definition is made: one that
    is more than a name or a literal keeps the definition out, and the message says why."""
    marker = tmp_path / "ran"
    update = f"def update_parameters(p, y, y_hat, A1, X, lr=open({str(marker)!r}, 'w')):\n  pass"
    trainer = f"class Trainer:\n  for epoch in range(3):\n    open({str(marker)!r}, 'w')"
    path = notebook(tmp_path / "nb.ipynb", *around(FORWARD["regression"], update, trainer))
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: 'update_parameters' is defined only in cell 4, line 1, by a statement the audit does not run "
        "(making it would run code: a default, decorator or annotation that is not a plain name or literal)"
    )
    assert not marker.exists()


def test_a_name_never_defined_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = notebook(
        tmp_path / "nb.ipynb",
        *around(FORWARD["regression"], "def update_parameters(p, y, y_hat, A1, X):\n  p['W1'] -= learning_rate"),
    )
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: cell 4, line 2: name 'learning_rate' is used but never defined"
    )


def test_a_name_set_only_by_a_skipped_cell_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    update = "def update_parameters(p, y, y_hat, A1, X):\n  p['W1'] -= df.shape[0]"
    path = notebook(tmp_path / "nb.ipynb", *around(FORWARD["regression"], update))
    assert bad(capsys, path, "--contract", "tutorial") == (
        f"{path}: update_parameters raised NameError: name 'df' is not defined (it is set only in cell 2, line 2, "
        "by a statement the audit does not run) (epoch 1, step 1) (nb.ipynb cell 4, line 2)"
    )


def test_a_notebook_that_is_not_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text("{not json")
    assert bad(capsys, path).startswith(f"{path}: not a notebook (not JSON: ")
    path = notebook(tmp_path / "nb.ipynb", "def step(params, x, y, lr)\n  return params, 0")
    assert bad(capsys, path) == f"{path}: cell 1, line 1: not valid Python: expected ':'"


STEP_IN_COLUMNS = """
import numpy as np

def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    assert b1.shape == (2, 1) and x.shape == (2, 1)
    A1 = np.dot(W1.T, x) + b1
    y_hat = (np.dot(W2.T, A1) + b2)[0][0]
    e = -2 * (y - y_hat)
    delta = e * W2
    new = {"W1": W1 - lr * np.dot(x, delta.T), "b1": b1 - lr * delta, "W2": W2 - lr * e * A1, "b2": b2 - lr * e}
    return new, (y - y_hat) ** 2
"""


def test_the_step_contract_in_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Given, or found as the only layout in which the first step runs."""
    path = tmp_path / "columns.py"
    path.write_text(STEP_IN_COLUMNS)
    status, report, _ = audit(capsys, str(path), "--problem", "regression", "--layout", "columns")
    assert (status, report["verdict"], report["notes"]) == (0, "match", [])
    status, report, _ = audit(capsys, str(path), "--problem", "regression")
    assert (status, report["verdict"], report["layout"]) == (0, "match", "columns")
    assert report["notes"] == [
        "layout: columns (W (n_in, n_out)), the only one in which your first step runs (--layout chooses)"
    ]
    assert bad(capsys, path, "--layout", "keras").endswith(
        "step raised AssertionError: (epoch 1, step 1) (columns.py line 6)"
    )
