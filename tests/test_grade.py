"""``python -m comparisons grade``: a class in one run, each submission graded as it would be alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import comparisons.audit.grade
from comparisons.audit import sandbox
from comparisons.cli import main
from tests.user_steps import user_file

CLASS = Path(__file__).resolve().parent.parent / "examples" / "class_regression"
# grade's default, the sandbox, where bwrap runs; else the process limits alone (the sandbox's
# own tests, in test_containment.py, are skipped there, saying why)
EPOCHS = ["--epochs", "5", *([] if sandbox.problem() is None else ["--no-sandbox"])]


@pytest.fixture
def a_class(tmp_path: Path) -> Path:
    """The examples' class (correct steps, buggy ones, a notebook, a file that does not parse),
    and two more buggy steps written as users write them."""
    folder = tmp_path / "class"
    shutil.copytree(CLASS, folder)
    user_file(folder, "regression", "W1-indices-swapped", name="ivan.py")
    user_file(folder, "regression", "b2-from-W2", name="judy.py")
    return folder


def grade_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    status = main(["grade", *argv, "--problem", "regression", *EPOCHS, "--json"])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def test_each_submission_is_graded_as_it_is_audited_alone(capsys: pytest.CaptureFixture[str], a_class: Path) -> None:
    status, grades = grade_json(capsys, str(a_class))
    assert status == 0
    paths = sorted(str(p) for p in a_class.iterdir())
    assert [g["path"] for g in grades] == paths
    for graded in grades:
        alone_status = main(["audit", graded["path"], "--problem", "regression", *EPOCHS, "--json"])
        alone = json.loads(capsys.readouterr().out)
        score, feedback = graded.pop("score"), graded.pop("feedback")  # the gradebook's own, beside the audit
        assert feedback.startswith(f"Score: {score['points']:g}/10.")
        assert (score["points"] == 10) == (graded["verdict"] == "match")
        if alone_status == 2:
            assert graded == {"path": graded["path"], "verdict": "error", "error": alone["error"].split(": ", 1)[1]}
        else:
            assert graded == {"path": graded["path"], **alone}
    verdicts = ["match", "diverged", "diverged", "match", "error", "diverged", "diverged", "diverged"]
    assert [g["verdict"] for g in grades] == verdicts


HOSTILE = {
    "hangs.py": "def step(params, x, y, lr):\n    while True:\n        pass\n",
    "hungry.py": "import numpy as np\n\ndef step(params, x, y, lr):\n    big = np.ones(2**32)\n    return params, 0\n",
    "garbled.py": "def step(params, x, y, lr):\n    return params,, 0\n",
}


def test_a_hang_a_memory_hog_and_a_parse_error_are_graded_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name, source in HOSTILE.items():
        (tmp_path / name).write_text(source)
    shutil.copy(CLASS / "alice.py", tmp_path / "alice.py")
    status, grades = grade_json(capsys, str(tmp_path), "--timeout", "3", "--memory", "256")
    assert status == 0
    by_name = {Path(g["path"]).name: g for g in grades}
    assert by_name["alice.py"]["verdict"] == "match"
    assert [g["score"]["points"] for g in grades] == [10 if Path(g["path"]).name == "alice.py" else 0 for g in grades]
    assert by_name["garbled.py"].pop("feedback") == (
        "Score: 0/10. Your code could not be graded: not valid Python: invalid syntax at line 2"
    )
    assert by_name["garbled.py"].pop("score")["reason"] == "error: not valid Python: invalid syntax at line 2"
    assert by_name["garbled.py"] == {
        "path": str(tmp_path / "garbled.py"),
        "verdict": "error",
        "error": "not valid Python: invalid syntax at line 2",
    }
    assert by_name["hangs.py"]["error"].startswith("step did not finish within 3 s, stopped at init seed")
    assert by_name["hungry.py"]["error"] == (
        "step ran out of memory: the limit is 256 MiB (--memory) (epoch 1, step 1) (hungry.py line 4)"
    )
    # the student reads neither the grader's options nor its paths
    assert by_name["hungry.py"]["feedback"] == (
        "Score: 0/10. Your code could not be graded: step ran out of memory: the limit is 256 MiB "
        "(epoch 1, step 1) (hungry.py line 4)"
    )


def test_the_gradebook(capsys: pytest.CaptureFixture[str], a_class: Path, tmp_path: Path) -> None:
    out = tmp_path / "gradebook"
    argv = ["grade", str(a_class), "--problem", "regression", *EPOCHS, "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[-1] == f"Gradebook written to {out}/: grades.csv and grades.html"
    assert "8 of 8 submissions graded (regression, float64, 5 epochs" in text
    assert sorted(p.name for p in out.iterdir()) == [".comparisons-gradebook", "grades.csv", "grades.html"]
    csv = (out / "grades.csv").read_text()
    header = csv.splitlines()[0]
    assert header == (
        "path,verdict,first_init,first_epoch,first_step,first_values,findings,known_bugs,error,convention,"
        "score,max_score,reason,feedback"
    )
    rows = pd.read_csv(out / "grades.csv", dtype=str, keep_default_na=False).to_dict("records")
    assert len(rows) == 8
    assert rows[4] == {
        "path": str(a_class / "erin.py"),
        "verdict": "error",
        **dict.fromkeys(["first_init", "first_epoch", "first_step", "first_values", "findings", "known_bugs"], ""),
        "error": "not valid Python: expected ':' at line 4",
        "convention": "",
        "score": "0",
        "max_score": "10",
        "reason": "error: not valid Python: expected ':' at line 4",
        "feedback": "Score: 0/10. Your code could not be graded: not valid Python: expected ':' at line 4",
    }
    ivan = rows[6]
    assert (ivan["path"], ivan["verdict"], ivan["first_values"]) == (
        str(a_class / "ivan.py"),
        "diverged",
        "w^1_12 w^1_21",
    )
    assert (ivan["findings"], ivan["known_bugs"]) == (
        "other-gradient: w^1_12; other-gradient: w^1_21",
        "W1-indices-swapped",
    )
    assert (ivan["score"], ivan["reason"]) == ("7.5", "diverged: 3 of 4 groups right; wrong: W1 (other-gradient)")
    page = (out / "grades.html").read_text()
    assert "<tr><td>diverged</td><td>5</td></tr>" in page
    assert "<tr><td>other-gradient</td><td>1</td></tr>" in page
    assert page.count("<details><summary>details</summary>") == 7
    assert "src=" not in page.replace('src="data:', "")  # self-contained
    assert main(argv) == 0  # a second run replaces it, byte for byte the same
    assert (out / "grades.csv").read_text() == csv


def test_bad_invocations_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["grade", str(tmp_path / "nobody"), "--problem", "regression"]) == 2
    assert capsys.readouterr().err == f"python -m comparisons: error: {tmp_path / 'nobody'}: no such file or folder\n"
    (tmp_path / "notes.txt").write_text("no code here")
    assert main(["grade", str(tmp_path), "--problem", "regression"]) == 2
    assert "no submissions (.py or .ipynb files) in" in capsys.readouterr().err
    (tmp_path / "step.py").write_text("def step(params, x, y, lr):\n    return params, 0.0\n")
    assert main(["grade", str(tmp_path), "--problem", "regression", "--out", str(tmp_path)]) == 2
    assert "folder is not empty and holds no earlier gradebook" in capsys.readouterr().err


def test_an_interrupted_run_keeps_what_finished(
    capsys: pytest.CaptureFixture[str], a_class: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_wait = comparisons.audit.grade.wait  # type: ignore[attr-defined]  # the module's own import, patched here
    calls = 0

    def interrupted_after_two(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(comparisons.audit.grade, "wait", interrupted_after_two)
    out = tmp_path / "gradebook"
    argv = ["grade", str(a_class), "--problem", "regression", *EPOCHS, "--out", str(out), "--jobs", "1"]
    assert main(argv) == 130
    assert "interrupted; the gradebook holds the 2 submissions that finished" in capsys.readouterr().err
    assert len(pd.read_csv(out / "grades.csv")) == 2
    assert "Interrupted: these are the submissions that finished." in (out / "grades.html").read_text()


def test_a_fault_on_one_submission_does_not_stop_the_class(
    capsys: pytest.CaptureFixture[str], a_class: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_audit = comparisons.audit.grade.audit  # type: ignore[attr-defined]  # the module's own import, patched here

    def failing_on_bob(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == "bob.py":
            raise RuntimeError("boom")
        return real_audit(path, *args, **kwargs)

    monkeypatch.setattr(comparisons.audit.grade, "audit", failing_on_bob)
    status, grades = grade_json(capsys, str(a_class))
    assert status == 0
    by_name = {Path(g["path"]).name: g for g in grades}
    assert by_name["bob.py"]["error"] == "internal error while grading it: RuntimeError: boom"
    assert by_name["alice.py"]["verdict"] == "match"


def test_a_class_of_optimizers_is_graded_by_convention(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--contract dlai in grade: each submission's optimizer named, or its finding, or its error."""
    examples = CLASS.parent
    shutil.copy(examples / "optimizer_adam.py", tmp_path / "alice.py")
    shutil.copy(examples / "optimizer_adam_epsilon.py", tmp_path / "bob.py")
    shutil.copy(examples / "optimizer_momentum.py", tmp_path / "carol.py")  # momentum, not Adam
    argv = ["--contract", "dlai", "--init", "random", "--epochs", "2", "--no-sandbox", "--out", str(tmp_path / "book")]
    status = main(["grade", str(tmp_path), *argv, "--json"])
    grades = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    by_name = {Path(g["path"]).name: g for g in grades}
    assert (by_name["alice.py"]["verdict"], by_name["alice.py"]["convention"]) == ("match", "textbook")
    assert [f["kind"] for f in by_name["bob.py"]["diagnosis"]["findings"]] == ["epsilon-placement"]
    assert by_name["carol.py"].pop("score")["points"] == 0
    assert by_name["carol.py"].pop("feedback").startswith("Score: 0/10. Your code could not be graded: defines no")
    assert (by_name["alice.py"]["score"]["points"], by_name["bob.py"]["score"]["points"]) == (10, 10 * 0 / 4)
    assert by_name["carol.py"] == {
        "path": str(tmp_path / "carol.py"),
        "verdict": "error",
        "error": "defines no function 'update_parameters_with_adam'",
    }
    alice = pd.read_csv(tmp_path / "book" / "grades.csv", dtype=str, keep_default_na=False).to_dict("records")[0]
    assert (alice["path"], alice["verdict"], alice["convention"]) == (str(tmp_path / "alice.py"), "match", "textbook")
    assert main(["grade", str(tmp_path), "--contract", "dlai", "--problem", "regression"]) == 2
    said = "--problem: an optimizer is audited on a network built for it (every hyperparameter matters there)\n"
    assert capsys.readouterr().err.endswith(said)
