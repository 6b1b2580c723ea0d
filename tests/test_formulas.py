"""``python -m comparisons formulas``: formula sheets in the document's notation, checked against autodiff."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comparisons.cli import main
from comparisons.errors import InputError
from comparisons.formulas.audit import audit_page, audit_sheet, evaluate
from comparisons.formulas.derive import derive_sheet
from comparisons.formulas.gradients import environment, points
from comparisons.formulas.latex import find_formulas
from comparisons.formulas.sheet import read_sheet
from comparisons.problems import PROBLEMS
from manual import parameter_names
from manual.row.formulas import classification_gradients, regression_gradients
from tests.user_steps import write_notebook

SHEETS = Path(__file__).resolve().parent.parent / "comparisons" / "sheets"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["formulas", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def audit_json(capsys: pytest.CaptureFixture[str], path: Path, network: str) -> tuple[int, dict[str, Any]]:
    status, out, err = run(capsys, "audit", str(path), "--network", network, "--json")
    assert err == ""
    return status, json.loads(out)


def sheet(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "sheet.md"
    path.write_text("# my formulas\n\nSome prose that is not a formula.\n" + "\n".join(lines) + "\n")
    return path


def test_document_regression_table_is_correct(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = audit_json(capsys, SHEETS / "document_regression.txt", "regression")
    assert status == 0
    assert [line["verdict"] for line in report["lines"]] == ["correct"] * 9
    assert (report["missing"], report["duplicates"]) == ([], [])


def test_document_classification_table_has_exactly_three_mislabeled_rows(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = audit_json(capsys, SHEETS / "document_classification.txt", "classification")
    assert status == 1
    wrong = [line for line in report["lines"] if line["verdict"] != "correct"]
    assert wrong == [
        {"line": 6, "parameter": "w^2_11", "verdict": "mislabeled", "actual": "w^1_11"},
        {"line": 7, "parameter": "w^2_21", "verdict": "mislabeled", "actual": "w^1_21"},
        {"line": 11, "parameter": "w^2_12", "verdict": "mislabeled", "actual": "b_12"},
    ]
    assert report["missing"] == ["w^1_11", "w^1_21", "b_12"]
    assert report["duplicates"] == ["w^2_11", "w^2_21"]


PLANTED = [
    pytest.param(r"\frac{\partial L}{\partial w^2_{11}} = 2(y-\hat{y})\cdot O_{11}", "sign", {}, id="sign"),
    pytest.param(
        r"\frac{\partial L}{\partial w^2_{11}} = -(y-\hat{y})\cdot O_{11}",
        "factor",
        {"factor": 0.5},
        id="factor-two-dropped",
    ),
    pytest.param(r"\frac{\partial L}{\partial b_{21}} = -4(y-\hat{y})", "factor", {"factor": 2.0}, id="factor-doubled"),
    pytest.param(
        r"\frac{\partial L}{\partial w^2_{11}} = -2(y-\hat{y})\cdot O_{12}",
        "mislabeled",
        {"actual": "w^2_21"},
        id="mislabeled",
    ),
    pytest.param(
        r"\frac{\partial L}{\partial w^1_{12}} = -2(y-\hat{y})\cdot w^2_{11} \cdot x_{i2}",
        "mislabeled",
        {"actual": "w^1_21"},
        id="swapped-indices",
    ),
    pytest.param(r"\frac{\partial L}{\partial w^2_{11}} = -2(y-\hat{y})\cdot O_{11}^2", "wrong", {}, id="wrong"),
    pytest.param(
        r"\frac{\partial L}{\partial w^3_{11}} = -2(y-\hat{y})\cdot O_{11}^2",
        "unknown-parameter",
        {},
        id="unknown-parameter",
    ),
]


@pytest.mark.parametrize(("line", "verdict", "extra"), PLANTED)
def test_planted_mistakes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, verdict: str, extra: dict[str, Any]
) -> None:
    status, report = audit_json(capsys, sheet(tmp_path, line), "regression")
    assert status == 1
    (only,) = report["lines"]
    assert only["line"] == 4
    assert only["verdict"] == verdict
    assert {k: v for k, v in only.items() if k in ("actual", "factor")} == extra


VARIANTS = [
    r"$$\frac{\partial L}{\partial w_{11}^{2}} = -\left(y - \hat y\right) O_{11}$$",
    r"$\frac{\partial L}{\partial w^{2}_{21}}=-(y-\hat{y})\times O_{12}$",
    r"\frac{\partial L}{\partial b_{21}} = \sigma(w^2_{11} O_{11} + w^2_{21} O_{12} + b_{21}) - y",
    r"\frac{\partial L}{\partial b_{11}} = \frac{\hat{y} - y}{1} \, w^2_{11} \, \exp(\ln(O_{11})) (1 - O_{11})",
    r"\frac{\partial L}{\partial w^1_{11}} = (\hat{y} - y) w^2_{11} O_{11} (1 - O_{11}) x_{11}",
    r"\frac{\partial L}{\partial w^1_{21}} = -(y - \hat{y})^{1} \cdot w^2_{11} \cdot (O_{11} - O_{11}^2) \cdot x_{12}",
    r"\frac{\partial L}{\partial w^1_{12}} = \left(\frac{1 - y}{1 - \hat{y}} - \frac{y}{\hat{y}}\right)"
    r" \hat{y} (1 - \hat{y}) w^2_{21} O_{12}(1-O_{12}) x_{i1}",
    r"\frac{\partial L}{\partial w^1_{22}} = -(y - O_{21}) w^2_{21} O_{12} (1 - O_{12}) x_{i2}",
    r"\frac{\partial L}{\partial b_{12}} = -(y - \hat{y}) w^2_{21} O_{12} (1 - O_{12}) \log(\exp(1))",
]


def test_notation_variants_parse_and_are_correct(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, report = audit_json(capsys, sheet(tmp_path, *VARIANTS), "classification")
    assert [line["verdict"] for line in report["lines"]] == ["correct"] * 9, report
    assert status == 0


@pytest.mark.parametrize("network", ["regression", "classification"])
def test_derive_round_trips(capsys: pytest.CaptureFixture[str], tmp_path: Path, network: str) -> None:
    status, out, _ = run(capsys, "derive", "--network", network)
    assert status == 0
    path = tmp_path / "derived.tex"
    path.write_text(out)
    status, report = audit_json(capsys, path, network)
    assert status == 0
    assert sorted(line["parameter"] for line in report["lines"]) == sorted(
        name for _, _, name in parameter_names(PROBLEMS[network].arch)
    )


@pytest.mark.parametrize(
    ("network", "gradients"),
    [("regression", regression_gradients), ("classification", classification_gradients)],
)
def test_manual_formulas_and_derived_sheet_agree(network: str, gradients: Any) -> None:
    """One truth: manual/row/formulas.py's per-parameter code is the derived sheet, at many random points."""
    arch = PROBLEMS[network].arch
    params, X, y = points(arch, seed=11)
    env = environment(arch, params, X, y)
    by_code = [gradients(p, x, t)[0] for p, x, t in zip(params, X, y, strict=True)]
    formulas = find_formulas(derive_sheet(network))
    assert len(formulas) == 9
    for formula in formulas:
        from_sheet = evaluate(formula.expression, env, formula.line)
        np.testing.assert_allclose(from_sheet, [g[formula.label] for g in by_code], rtol=1e-12, err_msg=formula.label)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(
            r"\frac{\partial L}{\partial w^2_{11}} = -2(y-\hat{y}",
            "cannot read the formula: expected ')', found the end at column 52",
            id="unclosed",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial w^2_{11}} = -2 \beta",
            "cannot read the formula: unexpected '\\beta' at column 43",
            id="unknown-command",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial w^2_{11}} = -2 z",
            "cannot read the formula: unknown symbol 'z' at column 43",
            id="unknown-symbol",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial w^2_{11}} = -2 O_{31}",
            "column 43: the network has no quantity O_31",
            id="unknown-quantity",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial L} = 1",
            "cannot read the formula: expected a parameter (w or b), found 'L' at column 28",
            id="bad-label",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial b_{21}} = __import__('os').system('touch pwned')",
            """unexpected character "'" at column 49""",
            id="python",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial b_{21}} = \input{/etc/passwd}",
            "unexpected '\\input' at column 38",
            id="tex-input",
        ),
        pytest.param(
            r"\frac{\partial L}{\partial b_{21}} = " + "(" * 5000 + "1" + ")" * 5000,
            "nested too deeply",
            id="deep-nesting",
        ),
    ],
)
def test_malformed_and_malicious_lines_are_skipped_with_the_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    """Never run, never dropped: listed as skipped, with why, beside the formulas that were read."""
    monkeypatch.chdir(tmp_path)
    path = sheet(tmp_path, line, r"\frac{\partial L}{\partial b_{21}} = -2(y-\hat{y})")
    status, report = audit_json(capsys, path, "regression")
    assert status == 1
    skipped, read = report["lines"]
    assert (skipped["line"], skipped["verdict"]) == (4, "skipped")
    assert message in skipped["reason"]
    assert (read["line"], read["parameter"], read["verdict"]) == (5, "b_21", "correct")
    assert not (tmp_path / "pwned").exists()


def test_sheet_without_formulas_and_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "audit", str(sheet(tmp_path)), "--network", "regression")
    assert status == 2
    assert "no formula of the form" in err
    status, _, err = run(capsys, "audit", str(tmp_path / "none.md"), "--network", "regression")
    assert (status, err) == (2, f"python -m comparisons: error: {tmp_path / 'none.md'}: no such file\n")
    status, _, err = run(capsys, "check")
    assert status == 2
    assert "formulas needs an action, audit or derive, not 'check'" in err


UNCLOSED = r"\frac{\partial L}{\partial w^2_{11}} = -2(y-\hat{y}"
UPDATE_RULE = r"w_{n} = w_{o} - \eta\frac{{\partial L}}{{\partial w_{o}}}"
NO_SUCH_QUANTITY = r"\frac{\partial L}{\partial w^2_{11}} = -2 O_{31}"
READABLE = r"\frac{\partial L}{\partial b_{21}} = -2(y-\hat{y})"
NOT_PARSED = "not of the form \\frac{\\partial L}{\\partial PARAMETER} = EXPRESSION"

UNREADABLE = [
    pytest.param(
        [UNCLOSED, UPDATE_RULE],
        "regression",
        "2 lines mention a derivative but none parses "
        "(line 4: cannot read the formula: expected ')', found the end at column 52)",
        id="none-parses",
    ),
    pytest.param(
        [UPDATE_RULE, UNCLOSED],
        "auto",
        f"2 lines mention a derivative but none parses (line 4: {NOT_PARSED})",
        id="none-parses-auto",
    ),
    pytest.param(
        [UPDATE_RULE],
        "classification",
        f"1 line mentions a derivative but it does not parse (line 4: {NOT_PARSED})",
        id="one-line-that-does-not-parse",
    ),
    pytest.param(
        [NO_SUCH_QUANTITY, UPDATE_RULE],
        "regression",
        "2 lines mention a derivative but none is a formula in the regression network's quantities "
        "(line 4: column 43: the network has no quantity O_31)",
        id="no-such-quantity",
    ),
    pytest.param(
        [UPDATE_RULE, NO_SUCH_QUANTITY],
        "auto",
        "2 lines mention a derivative but none is a formula in any of the document's networks' quantities "
        f"(line 4: {NOT_PARSED})",
        id="no-such-quantity-auto",
    ),
]


@pytest.mark.parametrize(("lines", "network", "problem"), UNREADABLE)
def test_a_sheet_in_which_no_formula_could_be_read_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    network: str,
    problem: str,
) -> None:
    """Once "0 of 0 formulas correct" and exit 1, a verdict on nothing: now bad input, with the first
    line that could not be read and why; nothing written, to stdout or beside the sheet."""
    monkeypatch.chdir(tmp_path)
    path = sheet(tmp_path, *lines)
    message = f"{path}: no formula could be read: {problem}"
    status, out, err = run(capsys, "audit", str(path), "--network", network)
    assert (status, out, err) == (2, "", f"python -m comparisons: error: {message}\n")
    status, out, err = run(capsys, "audit", str(path), "--network", network, "--json")
    assert (status, json.loads(out), err) == (
        2,
        {"verdict": "error", "error": message},
        f"python -m comparisons: error: {message}\n",
    )
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_notebook_in_which_no_formula_could_be_read_names_the_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_notebook(tmp_path / "page.ipynb", ("code", READABLE), ("markdown", f"# notes\n\n{UNCLOSED}"))
    status, out, err = run(capsys, "audit", str(path), "--network", "regression")
    assert (status, out) == (2, "")
    assert err == (
        f"python -m comparisons: error: {path}: no formula could be read: 1 line mentions a derivative but it "
        "does not parse (cell 2, line 3: cannot read the formula: expected ')', found the end at column 52)\n"
    )


def audit_in_python(path: Path, network: str) -> object:
    read = read_sheet(path)
    return audit_page(read) if network == "auto" else audit_sheet(read, network)


@pytest.mark.parametrize(
    ("lines", "network"),
    [
        pytest.param([UNCLOSED], "regression", id="none-parses"),
        pytest.param([NO_SUCH_QUANTITY], "regression", id="no-such-quantity"),
        pytest.param([NO_SUCH_QUANTITY], "auto", id="no-such-quantity-auto"),
    ],
)
def test_the_python_api_refuses_a_sheet_in_which_no_formula_could_be_read(
    tmp_path: Path, lines: list[str], network: str
) -> None:
    """What the CLI says comes from read_sheet and the audits themselves: a notebook calling them hears it too."""
    path = sheet(tmp_path, *lines)
    with pytest.raises(InputError, match="no formula could be read") as raised:
        audit_in_python(path, network)
    assert str(raised.value).startswith(f"{path}: ")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("\n\n  \n", id="blank-lines"),
        pytest.param("# my formulas\n\nSome prose that is not a formula.\n", id="prose"),
        pytest.param(f"% {UPDATE_RULE}\n", id="latex-comment"),
    ],
)
def test_a_sheet_without_a_line_about_a_derivative_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
) -> None:
    path = tmp_path / "sheet.md"
    path.write_text(text)
    for network in ("regression", "auto"):
        status, out, err = run(capsys, "audit", str(path), "--network", network)
        assert (status, out) == (2, "")
        assert err == (
            f"python -m comparisons: error: {path}: no formula of the form "
            "\\frac{\\partial L}{\\partial PARAMETER} = ...\n"
        )


@pytest.mark.parametrize(
    ("lines", "network", "summary"),
    [
        pytest.param(
            [UNCLOSED, READABLE],
            "regression",
            "1 of 1 formulas correct for the regression network; missing: w^1_11, w^1_12, w^1_21, w^1_22, b_11, "
            "b_12, w^2_11, w^2_21; labelled twice: none; skipped: 1 line",
            id="one-unparsable-one-correct",
        ),
        pytest.param(
            [NO_SUCH_QUANTITY, r"\frac{\partial L}{\partial b_{21}} = 2(y-\hat{y})"],
            "regression",
            "0 of 1 formulas correct for the regression network; missing: w^1_11, w^1_12, w^1_21, w^1_22, b_11, "
            "b_12, w^2_11, w^2_21, b_21; labelled twice: none; skipped: 1 line",
            id="one-unknown-quantity-one-sign-slip",
        ),
        pytest.param(
            [UPDATE_RULE, READABLE],
            "auto",
            "skipped: 1 line that mentions a derivative but could not be read",
            id="one-unparsable-one-correct-auto",
        ),
    ],
)
def test_a_sheet_with_a_readable_formula_keeps_exit_1_for_its_skipped_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lines: list[str], network: str, summary: str
) -> None:
    status, out, err = run(capsys, "audit", str(sheet(tmp_path, *lines)), "--network", network)
    assert (status, err) == (1, "")
    assert out.splitlines()[-1] == summary


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "audit", str(SHEETS / "document_classification.txt"), "--network", "classification")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].split() == ["line", "parameter", "verdict", "detail"]
    assert lines[4].split() == ["6", "w^2_11", "mislabeled", "this", "is", "dL/dw^1_11"]
    assert lines[-1] == (
        "6 of 9 formulas correct for the classification network; missing: w^1_11, w^1_21, b_12; "
        "labelled twice: w^2_11, w^2_21"
    )


NOTATIONS = [
    r"\dfrac{\partial \mathcal{L}}{\partial w^{[2]}_{11}} = -2(y-\hat{y})\cdot O_{11}",
    r"\tfrac{\partial J}{\partial w^2_{21}} = -2(y-\hat{y})\cdot O_{12}",
    r"\frac{dL}{db_{21}} = \dfrac{-2(y-\hat{y})}{1}",
    r"\frac{\partial E}{\partial w^{[1]}_{11}} = -2(y-\hat{y})\cdot w^2_{11} \cdot x_{11}",
    r"\frac{\partial C}{\partial w^1_{21}} = -2(y-\hat{y})\cdot w^2_{11} \cdot x_{12}",
    r"\frac{d\mathcal{L}}{d b_{11}} = -2(y-\hat{y})\cdot w^2_{11}",
    r"\dfrac{\partial \mathcal{L}}{\partial w^1_{12}} = -2(y-\hat{y})\cdot w^2_{21} \cdot x_{11}",
    r"\dfrac{\partial \mathcal{L}}{\partial w^1_{22}} = -2(y-\hat{y})\cdot w^2_{21} \cdot x_{12}",
    r"\frac{\partial L}{\partial b_{12}} = -2(y-\hat{y})\cdot w^2_{21}",
]


def test_the_notations_learners_type_are_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """\\dfrac, \\tfrac, \\mathcal{L}, a loss named J, E or C, d for \\partial, w^{[1]}: once
    silently dropped (the sheet then "missed" w^1_12 and w^1_22), now read."""
    status, report = audit_json(capsys, sheet(tmp_path, *NOTATIONS), "regression")
    assert [line["verdict"] for line in report["lines"]] == ["correct"] * 9, report
    assert (status, report["missing"]) == (0, [])


def test_a_line_about_a_derivative_that_is_no_formula_is_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    update_rule = r"w_{n} = w_{o} - \eta\frac{{\partial L}}{{\partial w_{o}}}"
    status, report = audit_json(capsys, sheet(tmp_path, update_rule, *NOTATIONS), "regression")
    assert status == 1
    assert report["lines"][0] == {
        "line": 4,
        "parameter": None,
        "verdict": "skipped",
        "reason": "not of the form \\frac{\\partial L}{\\partial PARAMETER} = EXPRESSION",
    }


def test_a_notebooks_markdown_cells_are_a_sheet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = (SHEETS / "document_regression.txt").read_text()
    code = r"# \frac{\partial L}{\partial b_{21}} = 0 in a code cell is code, not a formula"
    path = write_notebook(tmp_path / "page.ipynb", ("code", code), ("markdown", table))
    status, report = audit_json(capsys, path, "regression")
    assert status == 0
    assert [(line["cell"], line["line"]) for line in report["lines"]] == [(2, n) for n in range(3, 12)]
    status, out, _ = run(capsys, "audit", str(path), "--network", "regression")
    assert out.splitlines()[1].split() == ["cell", "2,", "line", "3", "w^2_11", "correct"]


def test_auto_gives_each_table_of_the_page_its_network(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The document's page holds both tables, regression then classification, with prose between:
    each is audited against its own network, with the verdicts the single-network audits give."""
    prose = "\nThe classification problem\n\nNow the output neuron is a sigmoid.\nAnd the loss is cross-entropy.\n"
    regression = (SHEETS / "document_regression.txt").read_text()
    classification = (SHEETS / "document_classification.txt").read_text()
    path = tmp_path / "page.md"
    path.write_text(regression + prose + classification)
    status, out, _ = run(capsys, "audit", str(path), "--network", "auto", "--json")
    page = json.loads(out)
    assert status == 1
    assert [block["network"] for block in page["blocks"]] == ["regression", "classification"]
    for block, table in zip(page["blocks"], ("document_regression.txt", "document_classification.txt"), strict=True):
        _, alone = audit_json(capsys, SHEETS / table, block["network"])
        offset = block["lines"][0]["line"] - alone["lines"][0]["line"]
        assert [{**line, "line": line["line"] - offset} for line in block["lines"]] == alone["lines"]
        assert (block["missing"], block["duplicates"]) == (alone["missing"], alone["duplicates"])
    assert page["skipped"] == []


# Sheets for a network of one's own: derived, then audited against Keras's gradients.

NETWORKS = {
    "relu-sigmoid-bce": ["--layers", "3,2,1", "--activations", "relu,sigmoid", "--loss", "binary_crossentropy"],
    "tanh-linear-mse": ["--layers", "2,3,1", "--activations", "tanh,linear"],
    "two-hidden-sigmoid-tanh-relu": ["--layers", "2,3,2,1", "--activations", "sigmoid,tanh,relu"],
    "sigmoid-output-mse": ["--layers", "1,2,1", "--activations", "linear,sigmoid"],
}


@pytest.mark.parametrize("network", NETWORKS)
def test_a_derived_sheet_of_any_network_is_correct_line_by_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, network: str
) -> None:
    options = NETWORKS[network]
    status, out, _ = run(capsys, "derive", *options)
    assert status == 0
    path = tmp_path / "derived.tex"
    path.write_text(out)
    status, out, err = run(capsys, "audit", str(path), *options, "--json")
    report = json.loads(out)
    assert (status, err, report["missing"]) == (0, "", [])
    widths = [int(n) for n in options[1].split(",")]
    assert len(report["lines"]) == sum(a * b + b for a, b in itertools.pairwise(widths))


@pytest.mark.parametrize(
    ("network", "written", "slip", "verdict"),
    [
        pytest.param("relu-sigmoid-bce", r"\mathbb{1}[O_{11} > 0] \cdot x_{i2}", "x_{i2}", "wrong", id="relu-slope"),
        pytest.param("tanh-linear-mse", r"\left(1 - O_{12}^{2}\right) \cdot x_{i1}", "x_{i1}", "wrong", id="tanh"),
        pytest.param(
            "tanh-linear-mse",
            r"-2\left(y - \hat{y}\right) \cdot O_{11}",
            r"-\left(y - \hat{y}\right) \cdot O_{11}",
            "factor",
            id="two",
        ),
    ],
)
def test_a_slip_in_a_derived_sheet_is_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, network: str, written: str, slip: str, verdict: str
) -> None:
    options = NETWORKS[network]
    out = run(capsys, "derive", *options)[1]
    assert out.count(written) >= 1
    path = tmp_path / "slipped.tex"
    path.write_text(out.replace(written, slip, 1))
    status, out, _ = run(capsys, "audit", str(path), *options, "--json")
    verdicts = [line["verdict"] for line in json.loads(out)["lines"]]
    assert status == 1
    assert verdicts.count(verdict) == 1
    assert verdicts.count("correct") == len(verdicts) - 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--layers", "3,2,2"], "a formula sheet has one output y: --layers must end in 1", id="outputs"),
        pytest.param(["--layers", "3,2,1", "--network", "regression"], "give one", id="both"),
        pytest.param(["--loss", "binary_crossentropy"], "--loss describes a network of your own", id="loss-alone"),
        pytest.param([], "give --network (the document's) or --layers (your own)", id="neither"),
        pytest.param(["--layers", "12,2,1"], "widths up to 9", id="wide"),
        pytest.param(
            ["--layers", "3,2,1", "--activations", "relu,linear", "--loss", "binary_crossentropy"],
            "needs a sigmoid output",
            id="bce",
        ),
    ],
)
def test_a_sheet_network_that_cannot_be_written_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, "derive", *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err, err
