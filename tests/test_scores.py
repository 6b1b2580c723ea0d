"""The rubric (comparisons/audit/rubric.py), the score it gives (scores.py) and the student's feedback.

The scores are worked on results built here (the score reads an audit's verdict, findings and
steps from Keras's state, nothing else), so each rule has its own small case; tests/test_grade.py
and tests/test_autograder.py score real audits end to end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from comparisons.audit.findings import Finding
from comparisons.audit.grade import Grade
from comparisons.audit.render.feedback import error_feedback, feedback, student_text
from comparisons.audit.render.tables import final_grades_csv
from comparisons.audit.rubric import DEFAULT_RUBRIC, Rubric, read_rubric
from comparisons.audit.scores import error_score, score
from comparisons.cli import main
from comparisons.errors import InputError

DOCUMENT = ["W1", "b1", "W2", "b2"]


@dataclass
class Forced:
    parameters: list[dict[str, Any]]


@dataclass
class Run:
    forced_divergence: Forced | None = None


@dataclass
class Result:
    """What the score reads of an Audit."""

    verdict: str = "diverged"
    findings: list[Finding] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    problem: str = "regression"
    inits: list[str] = field(default_factory=lambda: ["seed"])
    first_divergence: Any = None


def finding(kind: str, *parameters: str) -> Finding:
    first = {"init": "seed", "epoch": 1, "step": 1}
    return Finding(kind, list(parameters), [], None, None, None, None, first, f"check {kind}")


CASES = {
    "match": (Result("match"), DOCUMENT, 10.0),
    "one-weight-of-the-output": (Result(findings=[finding("other-gradient", "w^2_11")]), DOCUMENT, 7.5),
    "the-hidden-layer": (Result(findings=[finding("stale-weights", "w^1_11", "b_12")]), DOCUMENT, 5.0),
    "every-tensor": (Result(findings=[finding("scaled", "W1", "b1", "W2", "b2")]), DOCUMENT, 0.0),
    # a finding that names no parameter: every group right, and still not full marks
    "the-loss-alone": (Result(findings=[finding("forward")]), DOCUMENT, 9.0),
    "the-loss-and-b2": (Result(findings=[finding("loss-after-update"), finding("not-updated", "b_21")]), DOCUMENT, 6.5),
    # 10 x 5/6 = 8.33..., rounded down
    "one-of-six": (Result(findings=[finding("transposed", "W3")]), ["W1", "b1", "W2", "b2", "W3", "b3"], 8.3),
    # off at a step from Keras's state, though no finding names it
    "off-from-keras-state": (
        Result(runs=[Run(Forced([{"name": "b_21", "array": "b2"}, {"name": "loss", "array": None}]))]),
        DOCUMENT,
        7.5,
    ),
    "a-hyperparameter": (Result(findings=[finding("hyperparameter", "beta_2")]), DOCUMENT, 9.0),
}


@pytest.mark.parametrize(("result", "tensors", "points"), list(CASES.values()), ids=list(CASES))
def test_the_default_rubric(result: Result, tensors: list[str], points: float) -> None:
    scored = score(result, tensors)  # type: ignore[arg-type]  # read by its attributes
    assert (scored.points, scored.max_points) == (points, 10.0)


def test_the_reason_names_the_wrong_groups_and_the_deductions() -> None:
    result = Result(findings=[finding("loss-after-update"), finding("not-updated", "b_21")])
    scored = score(result, DOCUMENT)  # type: ignore[arg-type]
    assert scored.reason == "diverged: 3 of 4 groups right; wrong: b2 (not-updated); 1 off for loss-after-update"
    assert [(g.label, g.points, g.right) for g in scored.groups] == [
        ("hidden weights (W1)", 2.5, True),
        ("hidden biases (b1)", 2.5, True),
        ("output weights (W2)", 2.5, True),
        ("output bias (b2)", 0.0, False),
    ]
    network = score(Result(findings=[finding("sign", "b2")], problem="3-4-2"), DOCUMENT)  # type: ignore[arg-type]
    assert network.groups[3].label == "layer 2 biases (b2)"


def test_an_error_scores_0_with_its_reason() -> None:
    scored = error_score("step did not finish within 3 s; an endless loop?", DOCUMENT)
    assert (scored.points, scored.reason) == (0.0, "error: step did not finish within 3 s; an endless loop?")
    assert all(not g.right for g in scored.groups)


RUBRIC = """\
total = 20
verdict = 4
show_values = false
visibility = "after_published"

[groups.W2]
points = 8
visibility = "hidden"

[deductions]
sign = 3
"""


def test_a_rubric_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC)
    rubric = read_rubric(path)
    # W2 its 8; the 8 the total leaves after the verdict's 4, shared by the three others
    assert rubric.points(DOCUMENT) == {"W1": 8 / 3, "b1": 8 / 3, "W2": 8.0, "b2": 8 / 3}
    assert (rubric.visibility_of("W2"), rubric.visibility_of("b1")) == ("hidden", "after_published")
    assert score(Result("match"), DOCUMENT, rubric).points == 20  # type: ignore[arg-type]
    # the verdict's 4 are a match's only; b2 wrong, and a sign finding 3 off
    scored = score(Result(findings=[finding("sign", "b_21")]), DOCUMENT, rubric)  # type: ignore[arg-type]
    assert (scored.points, scored.deducted) == (_floor(8 / 3 * 2 + 8 - 3), 3.0)


def _floor(x: float) -> float:
    return int(x * 10) / 10


BAD_RUBRICS = {
    "not-toml": ("total = = 3", "not a TOML rubric"),
    "unknown-key": ("points = 3", "unknown key 'points'"),
    "negative": ("total = -1", "total must be a number of points, 0 to 1e+06, not -1"),
    "infinite": ("[deductions]\nforward = inf", "deductions.forward must be a number of points, 0 to 1e+06, not inf"),
    "huge": ("total = 1e308", "total must be a number of points, 0 to 1e+06, not 1e+308"),
    "verdict-over-total": ("total = 5\nverdict = 6", "verdict at most the total"),
    "visibility": ('visibility = "students"', "visibility must be one of visible, hidden"),
    "group-key": ("[groups.W1]\nweight = 2", "[groups.W1] takes points and visibility only"),
    "deduction-kind": ("[deductions]\ntypo = 1", "deductions.typo is not a finding kind"),
    "show-values": ('show_values = "yes"', "show_values must be true or false"),
}


@pytest.mark.parametrize(("text", "said"), list(BAD_RUBRICS.values()), ids=list(BAD_RUBRICS))
def test_a_bad_rubric_is_one_line_naming_it(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=f"^{path}: ") as raised:
        read_rubric(path)
    assert said in str(raised.value)
    assert "\n" not in str(raised.value)


def test_groups_that_do_not_add_up_or_are_not_the_networks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"the groups' points \(12\) and the verdict's \(0\) must add up to"):
        Rubric(groups={"W1": _group(6), "b1": _group(6)}).points(DOCUMENT)
    with pytest.raises(InputError, match="group 'W3' is not a tensor of this network"):
        Rubric(groups={"W3": _group(1)}).points(DOCUMENT)


def _group(points: float) -> Any:
    from comparisons.audit.rubric import Group

    return Group(points)


def test_a_bad_rubric_on_the_command_line_exits_2_before_grading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "rubric.toml").write_text("total = -1\n")
    (tmp_path / "step.py").write_text("def step(params, x, y, lr):\n    return params, 0.0\n")
    out = tmp_path / "book"
    argv = ["grade", str(tmp_path / "step.py"), "--problem", "regression", "--no-sandbox", "--out", str(out)]
    assert main([*argv, "--rubric", str(tmp_path / "rubric.toml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


def test_the_feedback_has_nothing_of_the_grading_machine() -> None:
    said = "step ran out of memory: the limit is 256 MiB (--memory) (/srv/grading/run7/hungry.py line 4)"
    assert student_text(said) == "step ran out of memory: the limit is 256 MiB (hungry.py line 4)"
    scored = error_score("internal error while grading it: RuntimeError: boom", DOCUMENT)
    assert "RuntimeError" not in error_feedback("internal error while grading it: RuntimeError: boom", scored)


@dataclass
class First:
    init: str = "seed"
    epoch: int = 1
    step: int = 2
    parameters: list[dict[str, Any]] = field(
        default_factory=lambda: [{"name": "b_21", "user": 0.5, "keras": 0.25, "array": "b2"}]
    )


def test_the_feedback_shows_the_values_where_the_rubric_says() -> None:
    result = Result(findings=[finding("sign", "b_21")], first_divergence=First())
    scored = score(result, DOCUMENT)  # type: ignore[arg-type]
    shown = feedback(result, scored, DEFAULT_RUBRIC)  # type: ignore[arg-type]
    assert shown.splitlines() == [
        "Score: 7.5/10. Your code's updates differ from Keras's; the findings below say where.",
        "Right: hidden weights (W1), hidden biases (b1), output weights (W2).",
        "To check:",
        "- output bias (b2): check sign",
        "First difference: init seed, epoch 1, step 2: b_21 is 0.5 where Keras has 0.25.",
    ]
    hidden = feedback(result, scored, Rubric(show_values=False))  # type: ignore[arg-type]
    assert hidden.splitlines()[-1] == "First difference: init seed, epoch 1, step 2: b_21."


def test_otters_final_grades() -> None:
    match = score(Result("match"), DOCUMENT)  # type: ignore[arg-type]
    half = score(Result(findings=[finding("scaled", "W1", "b1")]), DOCUMENT)  # type: ignore[arg-type]
    failed = error_score("not valid Python", DOCUMENT)
    grades = [Grade("a.py", None, None, match), Grade("b.py", None, None, half), Grade("c.py", None, "x", failed)]
    table = pd.read_csv(io.StringIO(final_grades_csv(grades)))
    assert list(table.columns) == ["file", "W1", "W2", "b1", "b2", "percent_correct"]
    assert table.to_dict("list") == {
        "file": ["a.py", "b.py", "c.py"],
        "W1": [2.5, 0.0, 0.0],
        "W2": [2.5, 2.5, 0.0],
        "b1": [2.5, 0.0, 0.0],
        "b2": [2.5, 2.5, 0.0],
        "percent_correct": [1.0, 0.5, 0.0],
    }


def test_results_json_has_a_test_for_the_verdict_and_one_for_deductions() -> None:
    import json as json_

    import jsonschema

    from comparisons.audit.render.json import gradescope_json

    schema = json_.loads((Path(__file__).with_name("gradescope_results.schema.json")).read_text())
    rubric = Rubric(verdict=2.0, visibility="hidden")
    result = Result(findings=[finding("forward"), finding("sign", "b_21")])
    scored = score(result, DOCUMENT, rubric)  # type: ignore[arg-type]
    graded = Grade("a.py", result, None, scored, "feedback")  # type: ignore[arg-type]
    results = gradescope_json(graded, rubric)
    jsonschema.validate(results, schema)
    assert results["score"] == 8 * 3 / 4 - 1
    assert [(t["name"], t["score"], t["max_score"], t["visibility"]) for t in results["tests"][-2:]] == [
        ("the verdict", 0.0, 2.0, "hidden"),
        ("deductions", -1.0, 0.0, "hidden"),
    ]
    assert results["tests"][-1]["output"] == "1 off for forward"
    assert results["tests"][3]["output"] == "sign: check sign"


def test_a_group_worth_no_points_is_still_wrong_where_a_finding_names_it() -> None:
    rubric = Rubric(verdict=10.0)  # every point the verdict's: the groups share nothing
    scored = score(Result(findings=[finding("sign", "b_21")]), DOCUMENT, rubric)  # type: ignore[arg-type]
    assert [(g.group, g.right) for g in scored.groups] == [("W1", True), ("b1", True), ("W2", True), ("b2", False)]
    assert (scored.points, scored.reason) == (0.0, "diverged: 3 of 4 groups right; wrong: b2 (sign)")


def test_otters_columns_add_up_to_the_score() -> None:
    result = Result(findings=[finding("forward"), finding("sign", "b_21")])
    scored = score(result, DOCUMENT, Rubric(verdict=2.0))  # type: ignore[arg-type]
    matched = score(Result("match"), DOCUMENT, Rubric(verdict=2.0))  # type: ignore[arg-type]
    table = pd.read_csv(
        io.StringIO(final_grades_csv([Grade("a.py", None, None, scored), Grade("b.py", None, None, matched)]))
    )
    assert list(table.columns) == ["file", "W1", "W2", "b1", "b2", "verdict", "deductions", "percent_correct"]
    tests = table.drop(columns=["file", "percent_correct"]).sum(axis=1).tolist()
    assert tests == [scored.points, matched.points] == [8 * 3 / 4 - 1, 10.0]


def test_a_grader_option_named_in_a_message_is_left_out() -> None:
    said = "it runs in no layout (tried --layout columns, out-in, keras)"
    assert student_text(said) == "it runs in no layout (tried columns, out-in, keras)"
