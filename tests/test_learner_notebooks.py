"""Notebooks as learners leave them: cells Jupyter runs, functions of their own names, weights
stored out-in, a forward pass of the wrong shape, both problems in one notebook.

Each notebook is written here cell by cell with the same shape of trouble as the public
ones we read; none is copied. Every test asserts the verdict, the first divergence where
there is one, and the finding or message a learner sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comparisons.audit.choice import choose
from comparisons.audit.discover import groups
from comparisons.cli import main
from comparisons.notebook import definitions
from tests.test_notebooks import CORRECT_UPDATE, ERROR, FORWARD, SLOPE

RUN = ("--epochs", "2", "--init", "seed", "--json")


def update(problem: str, name: str = "update_parameters", sign: str = "-=") -> str:
    """The correct update for a problem; ``sign`` "+=" on b2 plants a sign bug there."""
    text = CORRECT_UPDATE.replace("ERROR", ERROR[problem]).replace("SLOPE", SLOPE[problem])
    return text.replace("update_parameters", name).replace("parameters['b2'] -=", f"parameters['b2'] {sign}")


def write(path: Path, *cells: str | tuple[str, int | None]) -> Path:
    """A notebook of code cells; a cell given with a number ran as In [number]."""
    document = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": cell if isinstance(cell, str) else cell[0],
                "execution_count": None if isinstance(cell, str) else cell[1],
                "outputs": [],
            }
            for cell in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document))
    return path


def audit(capsys: pytest.CaptureFixture[str], path: Path, problem: str, *extra: str) -> tuple[int, dict[str, Any]]:
    status = main(["audit", str(path), "--problem", problem, "--contract", "tutorial", *extra, *RUN])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert err == ("" if status != 2 else f"python -m comparisons: error: {report['error']}\n")
    return status, report


def kinds(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(f["kind"], f["parameters"]) for f in report["diagnosis"]["findings"]]


IMPORTS = " import numpy as np\n"  # a leading space: IPython strips it, and the cell ran


def test_indentation_magics_and_shell_lines_are_read_as_ipython_runs_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path / "nb.ipynb",
        # indented as a whole, as Jupyter runs it: IPython strips the indentation every line shares
        IMPORTS + " !pip install -q numpy\n %matplotlib inline\n",
        "%%time\nprint('a cell magic: its body is a string, not definitions')",
        FORWARD["regression"],
        "  " + update("regression").strip().replace("\n", "\n  ") + "\n",  # indented as a whole
        "y_hat, A1 = L_layer_forward(X, parameters)\nparameters?",
    )
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"], report["first_divergence"]) == (0, "match", None)
    # kept: numpy, linear_forward, L_layer_forward, update_parameters; skipped: the !pip, %matplotlib,
    # %%time and x? calls IPython made of them, and the loop cell's assignment
    assert report["notebook"] == {
        "code_cells": 5,
        "definitions": 4,
        "skipped_statements": 5,
        "order": "document",
        "cells": None,
    }


def test_a_cell_ipython_cannot_read_either_is_refused_with_its_cell_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, FORWARD["regression"], "def update_parameters(p, y\n  pass")
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (2, f"{path}: cell 3, line 1: not valid Python: '(' was never closed")


@pytest.mark.parametrize(
    ("counts", "order", "verdict"),
    [
        pytest.param((1, 2, 4, 3), "execution", "diverged", id="ran-out-of-order"),
        pytest.param((1, 2, None, 3), "document", "match", id="one-cell-never-ran"),
        pytest.param((1, 2, 3, 4), "document", "match", id="run-top-to-bottom"),
    ],
)
def test_cells_are_taken_in_the_order_they_ran(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, counts: tuple[int | None, ...], order: str, verdict: str
) -> None:
    """The learner fixed the update in cell 4, then ran the buggy cell 3 again: the buggy one stands."""
    cells = [IMPORTS, FORWARD["regression"], update("regression", sign="+="), update("regression")]
    path = write(tmp_path / "nb.ipynb", *zip(cells, counts, strict=True))
    status, report = audit(capsys, path, "regression")
    assert (report["verdict"], report["notebook"]["order"]) == (verdict, order)
    if verdict == "diverged":
        assert status == 1
        assert (report["first_divergence"]["epoch"], report["first_divergence"]["step"]) == (1, 1)
        assert kinds(report) == [("sign", ["b_21"])]
        assert report["notes"][:2] == [
            "update_parameters is defined more than once, in cells 4 and 3 (--cells A-B audits the definitions "
            "as they stand after cell B)",
            "audited the definitions of cells 1, 2, 4 and 3, in the order they ran (L_layer_forward in cell 2, "
            "update_parameters in cell 3): the last group whose forward pass gives Keras's regression loss on the "
            "first row; not cells 1, 2 and 4, in the order they ran (L_layer_forward in cell 2, update_parameters in "
            "cell 4); --cells chooses",
        ]


FORWARD_OTHER_NAMES = FORWARD["regression"].replace("L_layer_forward(X, parameters)", "forward_prop(x, params)")
FORWARD_OTHER_NAMES = FORWARD_OTHER_NAMES.replace("A = X", "A = x").replace("(parameters)", "(params)")
FORWARD_OTHER_NAMES = FORWARD_OTHER_NAMES.replace("parameters[", "params[")


@pytest.mark.parametrize(
    ("forward", "update_name", "notes"),
    [
        pytest.param(
            FORWARD["regression"].replace("L_layer_forward", "l_layer_forward"),
            "update_parameters",
            ["used l_layer_forward as the forward pass (no L_layer_forward: the same name but for case)"],
            id="lower-case",
        ),
        pytest.param(
            FORWARD_OTHER_NAMES,
            "backprop",
            [
                "used forward_prop(x, params) as the forward pass: no L_layer_forward, and it alone has the form "
                "(X, parameters) -> (y_hat, A1)",
                "used backprop(parameters, y, y_hat, A1, X, lr) as the update: no update_parameters, and it alone "
                "has the form (parameters, y, y_hat, A1, X[, lr])",
            ],
            id="other-names",
        ),
    ],
)
def test_functions_of_other_names_are_found_by_their_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, forward: str, update_name: str, notes: list[str]
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, forward, update("regression", update_name))
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"]) == (0, "match")
    assert report["notes"] == notes  # columns, the tutorial contract's own layout, found alone: nothing to say


def test_several_functions_of_the_forward_pass_s_form_are_listed_with_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    twice = FORWARD_OTHER_NAMES + FORWARD_OTHER_NAMES.replace("forward_prop", "predict")
    path = write(tmp_path / "nb.ipynb", IMPORTS, twice, update("regression", "backprop"))
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (
        2,
        f"{path}: defines no function 'L_layer_forward', and several have the forward pass's form "
        "(X, parameters) -> (y_hat, A1): forward_prop(x, params) (cell 2); predict(x, params) (cell 2); "
        "choose one with --forward NAME",
    )
    status, report = audit(capsys, path, "regression", "--forward", "predict")
    assert (status, report["verdict"], report["functions"]) == (
        0,
        "match",
        {"forward": "predict", "update": "backprop"},
    )


def test_none_of_the_form_lists_what_the_notebook_defines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, "def sigmoid(z):\n  return 1 / (1 + np.exp(-z))", update("regression"))
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (
        2,
        f"{path}: defines no function 'L_layer_forward', and none has the forward pass's form "
        "(X, parameters) -> (y_hat, A1); it defines: sigmoid(z) (cell 2); "
        "update_parameters(parameters, y, y_hat, A1, X, lr) (cell 3); choose one with --forward NAME",
    )


# deeplearning.ai's and PyTorch's layout: W (n_out, n_in), W @ a
OUT_IN_FORWARD = """
def L_layer_forward(X, parameters):
  A1 = parameters['W1'] @ X + parameters['b1']
  return parameters['W2'] @ A1 + parameters['b2'], A1
"""
OUT_IN_UPDATE = """
def update_parameters(parameters, y, y_hat, A1, X, lr):
  e = -2 * (y - y_hat)
  delta = parameters['W2'].T * e
  parameters['W2'] -= lr * e * A1.T
  parameters['b2'] -= lr * e
  parameters['W1'] -= lr * delta @ X.T
  parameters['b1'] -= lr * delta
"""


def test_weights_stored_out_in_are_found_by_the_layout_that_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, OUT_IN_FORWARD, OUT_IN_UPDATE)
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"], report["layout"]) == (0, "match", "out-in")
    assert report["notes"] == [
        "layout: out-in (W (n_out, n_in)), the only one in which your first step runs (--layout chooses)"
    ]
    bug = OUT_IN_UPDATE.replace("delta @ X.T", "X @ delta.T")  # W1's gradient transposed: W1 is square
    path = write(tmp_path / "bug.ipynb", IMPORTS, OUT_IN_FORWARD, bug)
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"], report["layout"]) == (1, "diverged", "out-in")
    assert kinds(report) == [("other-gradient", ["w^1_12"]), ("other-gradient", ["w^1_21"])]
    status, report = audit(capsys, path, "regression", "--layout", "columns")
    assert status == 2
    assert report["error"].startswith(f"{path}: L_layer_forward raised ValueError: matmul: ")


def test_a_forward_pass_of_another_shape_is_audited_as_the_tutorial_s_loop_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """W2 * A1 where np.dot(W2.T, A1) belongs: y_hat of shape (2, 1), of which the loop takes y_hat[0][0]."""
    forward = FORWARD["regression"].replace(
        "np.dot(W.T, A_prev) + b", "W * A_prev + b if W.shape[1] == 1 else np.dot(W.T, A_prev) + b"
    )
    path = write(tmp_path / "nb.ipynb", IMPORTS, forward, update("regression"))
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"]) == (1, "diverged")
    assert (report["first_divergence"]["epoch"], report["first_divergence"]["step"]) == (1, 1)
    assert (
        "L_layer_forward returns y_hat of shape (2, 1), not (1, 1): the audit takes y_hat[0][0], as the tutorial's "
        "loop does" in report["notes"]
    )
    (forward_finding,) = [f for f in report["diagnosis"]["findings"] if f["kind"] == "forward"]
    assert forward_finding["message"].endswith("(L_layer_forward returns y_hat of shape (2, 1), not (1, 1))")


BOTH = (
    IMPORTS,
    FORWARD["regression"].replace("L_layer_forward", "linear_forward_pass"),
    update("regression", "update_weight_bias"),
    "# now classification",
    FORWARD["classification"].replace("L_layer_forward", "linear_forward_pass"),
    update("classification", "update_weight_bias"),
)


@pytest.mark.parametrize(
    ("problem", "taken", "other"),
    [
        pytest.param(
            "regression",
            "cells 1-4 (linear_forward_pass in cell 2, update_weight_bias in cell 3)",
            "cells 1-6 (linear_forward_pass in cell 5, update_weight_bias in cell 6), the classification problem's",
            id="regression",
        ),
        pytest.param(
            "classification",
            "cells 1-6 (linear_forward_pass in cell 5, update_weight_bias in cell 6)",
            "cells 1-4 (linear_forward_pass in cell 2, update_weight_bias in cell 3), the regression problem's",
            id="classification",
        ),
    ],
)
def test_a_notebook_with_both_problems_is_audited_with_the_problem_s_own_definitions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem: str, taken: str, other: str
) -> None:
    path = write(tmp_path / "nb.ipynb", *BOTH)
    status, report = audit(capsys, path, problem)
    assert (status, report["verdict"]) == (0, "match")
    assert report["notes"][2:] == [
        "linear_forward_pass is defined more than once, in cells 2 and 5 (--cells A-B audits the definitions as "
        "they stand after cell B)",
        "update_weight_bias is defined more than once, in cells 3 and 6 (--cells A-B audits the definitions as "
        "they stand after cell B)",
        f"audited the definitions of {taken}: its forward pass gives Keras's {problem} loss on the first row; "
        f"not {other}; --cells chooses",
    ]


def test_cells_a_b_audit_the_definitions_as_they_stand_there_and_say_whose_they_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "nb.ipynb", *BOTH)
    status, report = audit(capsys, path, "classification", "--cells", "1-4")
    assert (status, report["verdict"], report["notebook"]["cells"]) == (1, "diverged", [1, 4])
    assert (report["first_divergence"]["epoch"], report["first_divergence"]["step"]) == (1, 1)
    assert (
        "linear_forward_pass gives Keras's regression loss on the first row, not the classification one: is this "
        "the regression problem's code (--problem regression)?"
    ) in report["notes"]
    status, report = audit(capsys, path, "classification", "--cells", "7-9")
    assert (status, report["error"]) == (2, f"{path}: --cells 7-9 holds no code cell (code cells: 1-6)")


def test_no_group_of_the_problem_s_is_bad_input_naming_the_groups(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The regression forward pass is broken (its output through a sigmoid too): no group gives
    Keras's regression output, and the other is the classification network's."""
    broken = BOTH[1].replace("return A, A_prev", "return 1 / (1 + np.exp(-A)) * 2, A_prev")
    path = write(tmp_path / "nb.ipynb", BOTH[0], broken, *BOTH[2:])
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (
        2,
        f"{path}: no group of its definitions has a forward pass that gives Keras's regression loss on the first "
        "row: cells 1-4 (linear_forward_pass in cell 2, update_weight_bias in cell 3); cells 1-6 "
        "(linear_forward_pass in cell 5, update_weight_bias in cell 6) gives the classification loss; choose with "
        "--cells A-B, or --problem classification",
    )


@pytest.mark.parametrize(
    ("losses", "group", "layout", "ambiguous"),
    [
        pytest.param([[[1.0, 9.0], [np.nan, np.nan], [np.nan, np.nan]]], 0, "columns", False, id="one-runs"),
        pytest.param([[[np.nan, np.nan], [1.0, 9.0], [2.0, 9.0]]], 0, "out-in", False, id="one-gives-keras-loss"),
        pytest.param([[[3.0, 9.0], [2.0, 9.0], [np.nan, np.nan]]], 0, "columns", True, id="two-run-none-matches"),
        pytest.param([[[np.nan] * 2] * 3], 0, "columns", False, id="none-runs"),
        pytest.param([[[np.nan, np.nan], [3.0, 9.0], [2.0, 9.0]]], 0, "out-in", True, id="two-run-not-the-own"),
        pytest.param([[[1.0, 9.0]] * 3, [[5.0, 5.0]] * 3], 0, "columns", True, id="first-group-is-the-problem-s"),
        pytest.param([[[5.0, 5.0]] * 3, [[3.0, 3.0]] * 3], None, "columns", False, id="the-other-problem-s-only"),
        pytest.param([[[3.0, 5.0]] * 3], 0, "columns", True, id="one-group-of-the-other-problem-is-audited"),
    ],
)
def test_the_choice_of_group_and_layout(losses: list[Any], group: int | None, layout: str, ambiguous: bool) -> None:
    """Keras's loss 1.0 for the problem, 5.0 for the other; NaN where the first step did not run."""
    choice = choose(np.array(losses), np.array([1.0, 5.0]), 1e-10, 0.1, ["columns", "out-in", "keras"], "columns")
    assert (choice.group, choice.layout, choice.ambiguous) == (group, layout, ambiguous)


STEP_OUT_IN = """
import numpy as np

def step(params, x, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    A1 = W1 @ x + b1
    y_hat = (W2 @ A1 + b2)[0, 0]
    e = -2 * (y - y_hat)
    delta = W2.T * e
    new = {"W1": W1 - lr * delta @ x.T, "b1": b1 - lr * delta, "W2": W2 - lr * e * A1.T, "b2": b2 - lr * e}
    return new, (y - y_hat) ** 2
"""


def test_a_step_out_in_is_found_by_its_layout_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "out_in.py"
    path.write_text(STEP_OUT_IN)
    status = main(["audit", str(path), "--problem", "regression", *RUN])
    report = json.loads(capsys.readouterr().out)
    assert (status, report["verdict"], report["layout"]) == (0, "match", "out-in")
    path.write_text(STEP_OUT_IN.replace('"b2": b2 - lr * e}', '"b2": b2 - lr * e * 2}'))
    status = main(["audit", str(path), "--problem", "regression", *RUN])
    report = json.loads(capsys.readouterr().out)
    assert (status, report["verdict"], report["layout"]) == (1, "diverged", "out-in")
    assert kinds(report) == [("scaled", ["b_21"])]


GLOBAL_RATE = {
    problem: update(problem).replace(", lr):", "):")  # the rate a global, as the tutorial's notebooks have it
    for problem in ("regression", "classification")
}


def test_a_group_ends_where_the_next_part_starts_changing_its_state(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The classification part sets its rate before its functions: the regression group stands
    as it did when the regression part ran, with its own rate."""
    cells = [IMPORTS, "lr = 0.001", FORWARD["regression"], GLOBAL_RATE["regression"], "lr = 0.0001"]
    cells += [FORWARD["classification"], GLOBAL_RATE["classification"]]
    path = write(tmp_path / "nb.ipynb", *cells)
    for problem, taken in (("regression", "cells 1-4"), ("classification", "cells 1-7")):
        status, report = audit(capsys, path, problem)
        assert (status, report["verdict"]) == (0, "match"), problem
        assert report["notes"][-1].startswith(f"audited the definitions of {taken} "), problem


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param(["def f(X, p): pass", "def u(p): pass"], [(2, {"f": 1, "u": 2})], id="one-group"),
        pytest.param(
            ["def f(X, p): pass", "def u(p): pass", "def f(X, p): pass", "def u(p): pass"],
            [(2, {"f": 1, "u": 2}), (4, {"f": 3, "u": 4})],
            id="redefined-cell-by-cell",
        ),
        pytest.param(
            ["def f(X, p): pass", "def u(p): pass", "def u(p): pass"],
            [(2, {"f": 1, "u": 2}), (3, {"f": 1, "u": 3})],
            id="a-fix-of-one",
        ),
        pytest.param(
            ["def f(X, p): pass", "def u(p): pass", "r = 1", "def f(X, p): pass", "def u(p): pass"],
            [(2, {"f": 1, "u": 2}), (5, {"f": 4, "u": 5})],
            id="a-cell-that-only-sets-starts-the-next-part",
        ),
        pytest.param(
            [
                "r = 1",
                "def f(X, p): pass",
                "def u(p): pass",
                "r = 2\nfor i in range(3): pass",
                "r = 3",
                "def f(X, p): pass",
                "def u(p): pass",
            ],
            [(4, {"f": 2, "u": 3}), (7, {"f": 6, "u": 7})],
            id="a-loop-keeps-the-rate-set-before-it",
        ),
        pytest.param(
            ["def f(X, p): pass", "def u(p): pass\nr = 1", "def f(X, p): pass", "def u(p): pass"],
            [(2, {"f": 1, "u": 2}), (4, {"f": 3, "u": 4})],
            id="a-rate-set-in-the-update-s-cell",
        ),
        pytest.param(
            [
                "def f(X, p): pass",
                "def u(p): pass",
                "def f(X, p): pass",
                "r = 2",
                "def u(p): pass",
                "def f(X, p): pass",
            ],
            [(2, {"f": 1, "u": 2}), (5, {"f": 3, "u": 5}), (6, {"f": 6, "u": 5})],
            id="a-carried-function-redefined",
        ),
        pytest.param(["def f(X, p): pass", "def f(X, p): pass"], [], id="never-complete"),
    ],
)
def test_groups_of_definitions(sources: list[str], expected: list[tuple[int, dict[str, int]]]) -> None:
    code = definitions("nb.ipynb", list(enumerate(sources, start=1)), len(sources))
    assert [(group.upto, group.cells) for group in groups(code, ["f", "u"])] == expected


def test_in_jupyter_the_layout_is_found_as_on_the_command_line() -> None:
    import comparisons

    namespace: dict[str, Any] = {"np": np}
    exec(OUT_IN_FORWARD + OUT_IN_UPDATE, namespace)
    functions = {"forward": namespace["L_layer_forward"], "update": namespace["update_parameters"]}
    result = comparisons.audit_step(**functions, problem="regression", epochs=2, init="seed")
    assert (result.verdict, result.layout) == ("match", "out-in")
    with pytest.raises(comparisons.InputError, match="L_layer_forward raised ValueError"):
        comparisons.audit_step(**functions, problem="regression", epochs=2, init="seed", layout="columns")


def test_where_no_layout_runs_the_error_is_the_one_in_the_layout_whose_forward_pass_ran(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An out-in notebook whose update indexes past W2: the update's own error, not the columns
    layout's shape error in the forward pass."""
    bug = OUT_IN_UPDATE.replace("parameters['b2'] -= lr * e", "parameters['b2'] -= lr * e * A1[5]")
    path = write(tmp_path / "nb.ipynb", IMPORTS, OUT_IN_FORWARD, bug)
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (
        2,
        f"{path}: update_parameters raised IndexError: index 5 is out of bounds for axis 0 with size 2 "
        "(epoch 1, step 1) (nb.ipynb cell 3, line 6); it runs in no layout (tried --layout columns, out-in, keras)",
    )


def test_messages_name_the_learner_s_own_lines_after_blank_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, FORWARD["regression"], "\n\n\ndef update_parameters(p, y\n  pass")
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (2, f"{path}: cell 3, line 4: not valid Python: '(' was never closed")


def test_a_time_cell_s_definitions_stand_as_jupyter_runs_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, FORWARD["regression"], "%%time\n" + update("regression"))
    status, report = audit(capsys, path, "regression")
    assert (status, report["verdict"]) == (0, "match")


def test_a_py_file_with_a_docstring_is_listed_and_imported_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A module docstring and a main guard run nothing at import: the search by form still
    lists what the file defines; and the file is imported once, whatever the probe tries."""
    marker = tmp_path / "imports"
    path = tmp_path / "two.py"
    path.write_text(
        f'"""My backprop."""\nimport numpy as np\nopen({str(marker)!r}, "a").write("x")\n'
        + FORWARD_OTHER_NAMES
        + FORWARD_OTHER_NAMES.replace("forward_prop", "predict")
        + update("regression", "backprop")
        + 'if __name__ == "__main__":\n    print("training")\n'
    )
    status, report = audit(capsys, path, "regression", "--forward", "predict")
    assert (status, report["verdict"], marker.read_text()) == (0, "match", "x")
    path.write_text(path.read_text().replace("open(", "# open("))
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (
        2,
        f"{path}: defines no function 'L_layer_forward', and several have the forward pass's form "
        "(X, parameters) -> (y_hat, A1): forward_prop(x, params) (line 8); predict(x, params) (line 19); "
        "choose one with --forward NAME",
    )


def test_a_layout_the_audit_does_not_know_is_refused() -> None:
    import comparisons

    with pytest.raises(comparisons.InputError, match="unknown layout 'rows' \\(choose from columns, out-in, keras\\)"):
        comparisons.audit_step(lambda params, x, y, lr: (params, 0.0), problem="regression", layout="rows")


@pytest.mark.parametrize(
    "expression",
    [pytest.param("-" * 100_000 + "1", id="memory"), pytest.param("1+" * 20_000 + "1", id="recursion")],
)
def test_code_nested_past_python_s_parser_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, expression: str
) -> None:
    path = write(tmp_path / "nb.ipynb", IMPORTS, f"x = {expression}")
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (2, f"{path}: cell 2: nested too deeply for Python's parser")
    path = tmp_path / "deep.py"
    path.write_text(f"x = {expression}\n")
    status, report = audit(capsys, path, "regression")
    assert (status, report["error"]) == (2, f"{path}: nested too deeply for Python's parser")
