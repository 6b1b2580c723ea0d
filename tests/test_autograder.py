"""``autograder gradescope`` and ``autograder run``: the zip, and results.json for every kind of
submission, checked against a JSON Schema of Gradescope's documented format.

Each submission is graded in a folder laid out as /autograder (``--root``, which run_autograder
takes from AUTOGRADER_ROOT): source/ holds the unzipped autograder, submission/ the student's
files, results/ what the student is shown. ``run`` runs in this process here (Keras's side once
per worker); the fresh test runs run_autograder itself, as Gradescope does, with the python3
first on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from comparisons.audit import sandbox
from comparisons.cli import main

CLASS = Path(__file__).resolve().parent.parent / "examples" / "class_regression"
SCHEMA = json.loads((Path(__file__).with_name("gradescope_results.schema.json")).read_text())
OPTIONS = [
    "--problem",
    "regression",
    "--epochs",
    "5",
    "--timeout",
    "3",
    "--memory",
    "512",
]  # test_grade.py's Keras runs
RUBRIC = '[groups.b2]\nvisibility = "after_published"\n'
WITHOUT_BWRAP = sandbox.problem()
DETAILS = "Each test below says what it found."  # the summary where the rubric hides a test


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("autograder")
    (folder / "rubric.toml").write_text(RUBRIC)
    zipped = folder / "autograder.zip"
    argv = ["autograder", "gradescope", *OPTIONS, "--rubric", str(folder / "rubric.toml"), "--out", str(zipped)]
    assert main(argv) == 0
    return zipped


def lay_out(tmp_path: Path, autograder: Path, *files: tuple[str, str]) -> Path:
    """A folder laid out as Gradescope's /autograder, the student's ``files`` (name, text) handed in."""
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    for name, text in files:
        (root / "submission" / name).write_text(text)
    (root / "results").chmod(0o777)  # at its most open: what keeps a submission out is not this folder's mode
    return root


def run(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[dict[str, Any], str]:
    assert main(["autograder", "run", "--root", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results, capsys.readouterr().out


def example(name: str) -> tuple[str, str]:
    return name, (CLASS / name).read_text()


ENDLESS = "def step(params, x, y, lr):\n    while True:\n        pass\n"


def test_the_zip(autograder: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        names = archive.namelist()
        config = json.loads(archive.read("autograder.json"))
        setup, run_autograder = archive.read("setup.sh").decode(), archive.read("run_autograder").decode()
        modes = {info.filename: info.external_attr >> 16 & 0o777 for info in archive.infolist()}
    assert names[:3] == ["setup.sh", "run_autograder", "autograder.json"]
    assert {"project/pyproject.toml", "project/comparisons/cli/main.py", "project/manual/network.py"} <= set(names)
    assert not any("__pycache__" in name for name in names)
    assert config == {"options": OPTIONS, "rubric": RUBRIC}
    assert "apt-get install -y -qq python3 python3-pip bubblewrap" in setup
    assert "python3 -m pip install --quiet /autograder/source/project" in setup
    assert 'python3 -m comparisons autograder run --root "${AUTOGRADER_ROOT:-/autograder}"' in run_autograder
    assert (modes["setup.sh"], modes["run_autograder"], modes["autograder.json"]) == (0o755, 0o755, 0o644)
    again = tmp_path / "again.zip"
    argv = [*OPTIONS, "--rubric", str(autograder.parent / "rubric.toml"), "--out", str(again)]
    assert main(["autograder", "gradescope", *argv]) == 0
    assert again.read_bytes() == autograder.read_bytes()  # the same options, the same bytes


def test_a_correct_submission(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    results, stdout = run(capsys, lay_out(tmp_path, autograder, example("alice.py")))
    assert results["score"] == 10
    # the rubric hides b2's test till published: the details stay with each test, not in the summary
    said = "Score: 10/10. Your code matches Keras after every step, under init seed, random, keras."
    assert results["output"] == f"{said} {DETAILS}"
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] == [
        ("hidden weights (W1)", 2.5, 2.5, "passed"),
        ("hidden biases (b1)", 2.5, 2.5, "passed"),
        ("output weights (W2)", 2.5, 2.5, "passed"),
        ("output bias (b2)", 2.5, 2.5, "passed"),
    ]
    assert [t["visibility"] for t in results["tests"]] == ["visible", "visible", "visible", "after_published"]
    assert results["stdout_visibility"] == "hidden"
    assert stdout.startswith("MATCH: ")  # the audit's full text, for the instructor
    assert stdout.endswith("Score: 10/10 (match)\n")


def test_a_buggy_submission(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    results, stdout = run(capsys, lay_out(tmp_path, autograder, example("bob.py")))  # W2 updated first
    assert results["score"] == 5
    assert (
        results["output"]
        == f"Score: 5/10. Your code's updates differ from Keras's; the findings below say where. {DETAILS}"
    )
    hidden = results["tests"][0]
    assert (hidden["score"], hidden["status"]) == (0, "failed")
    assert hidden["output"].startswith("stale-weights: w^1_11 (W1[0, 0]), ")
    assert "the gradient is computed with W2 already updated" in hidden["output"]
    assert "Known bug W2-updated-first reproduces the whole trajectory" in stdout  # the instructor's alone
    assert "Known bug" not in json.dumps(results)


def test_a_submission_that_does_not_parse(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    results, _ = run(capsys, lay_out(tmp_path, autograder, example("erin.py")))
    assert results["score"] == 0
    said = "Score: 0/10. Your code could not be graded: not valid Python: expected ':' at line 4"
    assert results["output"] == f"{said} {DETAILS}"
    assert {t["output"] for t in results["tests"]} == {"not graded: not valid Python: expected ':' at line 4"}


def test_a_submission_that_never_ends(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    root = lay_out(tmp_path, autograder, ("endless.py", ENDLESS))
    results, _ = run(capsys, root)
    assert results["score"] == 0
    assert results["output"].startswith("Score: 0/10. Your code could not be graded: step did not finish within 3 s")
    assert str(root) not in json.dumps(results)  # nothing of the grading machine


def test_a_notebook_submission(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    results, _ = run(capsys, lay_out(tmp_path, autograder, example("dave.ipynb")))
    assert results["score"] == 10


@pytest.mark.parametrize(
    ("files", "said"),
    [
        pytest.param([], "no .py or .ipynb file in your submission", id="nothing"),
        pytest.param(
            [example("alice.py"), example("bob.py")],
            "your submission has several files (alice.py, bob.py): hand in one .py or .ipynb",
            id="two-files",
        ),
    ],
)
def test_a_submission_that_cannot_be_graded_says_why(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path, files: list[tuple[str, str]], said: str
) -> None:
    results, stdout = run(capsys, lay_out(tmp_path, autograder, *files))
    expected = f"Score: 0/10. Your code could not be graded: {said} {DETAILS}"
    assert (results["score"], results["output"]) == (0, expected)
    assert stdout == f"not graded: {said}\n"
    assert results["tests"][0]["name"] == "hidden weights (W1)"  # the document's groups, as graded


def test_a_link_is_not_a_file_handed_in(capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path) -> None:
    root = lay_out(tmp_path, autograder)
    (root / "submission" / "step.py").symlink_to(CLASS / "alice.py")  # a correct file, not the student's
    results, _ = run(capsys, root)
    said = "no .py or .ipynb file in your submission (step.py a link)"
    assert (results["score"], results["output"]) == (0, f"Score: 0/10. Your code could not be graded: {said} {DETAILS}")


def test_results_json_is_written_whatever_stands_in_its_place(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path
) -> None:
    root = lay_out(tmp_path, autograder, example("erin.py"))
    (root / "results" / "results.json" / "keep").mkdir(parents=True)  # a folder where the file goes
    results, _ = run(capsys, root)
    assert results["score"] == 0


def test_results_is_made_where_a_folder_laid_out_by_hand_lacks_it(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path
) -> None:
    root = lay_out(tmp_path, autograder, example("erin.py"))
    shutil.rmtree(root / "results")
    assert run(capsys, root)[0]["score"] == 0


def test_a_broken_zip_is_the_graders_fault_not_the_students(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path
) -> None:
    root = lay_out(tmp_path, autograder, example("alice.py"))
    (root / "source" / "autograder.json").write_text('{"options": [1, 2], "rubric": 5}')
    results, stdout = run(capsys, root)
    assert results["score"] == 0
    assert results["output"].startswith(
        "Score: 0/10. Your code could not be graded: the grader failed on it, not your code"
    )
    assert "not the autograder's configuration (options must be a list of strings)" in stdout
    assert str(root) not in results["output"]


def test_a_folder_that_is_not_an_autograders_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["autograder", "run", "--root", str(tmp_path / "nowhere")]) == 2
    assert "not an autograder's folder (no source/" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def hostile(results: Path) -> str:
    """A step that writes a full score into results.json, now and, from a process of its own session,
    a second later; and then returns the parameters unchanged."""
    forged = json.dumps({"score": 100, "tests": []})
    return textwrap.dedent(
        f"""\
        import os, time

        for target in ({str(results / "results.json")!r}, "/autograder/results/results.json"):
            try:
                with open(target, "w") as out:
                    out.write({forged!r})
            except OSError:
                pass
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1)
                try:
                    with open({str(results / "results.json")!r}, "w") as out:
                        out.write({forged!r})
                    with open({str(results / "late")!r}, "w") as out:
                        out.write("written after the audit")
                except OSError:
                    pass
            os._exit(0)


        def step(params, x, y, lr):
            return params, 0.0
        """
    )


@pytest.mark.skipif(WITHOUT_BWRAP is not None, reason=f"the sandbox cannot run here: {WITHOUT_BWRAP}")
def test_a_submission_that_forges_results_json_is_contained(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path
) -> None:
    root = tmp_path / "autograder"
    root = lay_out(tmp_path, autograder, ("forger.py", hostile(root / "results")))
    results, _ = run(capsys, root)
    time.sleep(2)  # the late writer's second, and more
    assert json.loads((root / "results" / "results.json").read_text()) == results  # the parent's, unchanged
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    assert results["score"] == 0  # graded for what its step does: nothing is ever updated
    assert results["tests"][3]["output"].startswith("not-updated: w^1_11 (W1[0, 0]), ")


def test_a_bad_zip_option_is_one_line_and_no_zip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    (tmp_path / "rubric.toml").write_text("[groups.W3]\npoints = 1\n")
    for argv, said in [
        (["--problem", "nonsense"], "argument --problem: invalid choice: 'nonsense'"),
        (["--problem", "regression", "--rubric", str(tmp_path / "rubric.toml")], "group 'W3' is not a tensor"),
        (["--problem", "regression", "--jobs", "2"], "unrecognized arguments: --jobs 2"),
        (["--problem", "regression", "--rub", "x.toml"], "unrecognized arguments: --rub x.toml"),  # no abbreviation
    ]:
        assert main(["autograder", "gradescope", *argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert said in err, err
        assert not out.exists()
    for where, said in [(tmp_path, "a folder; --out is the zip"), (tmp_path / "no" / "a.zip", "no such folder")]:
        assert main(["autograder", "gradescope", "--problem", "regression", "--out", str(where)]) == 2
        assert said in capsys.readouterr().err


@pytest.mark.fresh
def test_run_autograder_as_gradescope_runs_it(tmp_path: Path, autograder: Path) -> None:
    """The script itself, in a fresh process, with the python3 first on PATH."""
    root = lay_out(tmp_path, autograder, example("bob.py"))
    here = Path(sys.executable).parent  # this interpreter's folder, its python3 first on PATH
    assert (here / "python3").exists()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{here}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 5
    assert done.stdout.startswith("DIVERGED: ")
    shutil.rmtree(root)


# Where bubblewrap cannot make its namespaces (Gradescope's containers may forbid them), each
# submission runs as a uid of its own, and everything of that uid is killed when it ends


def _reachable_by_others(path: Path) -> bool:
    """Whether another uid can run ``path``: every folder above it searchable by others."""
    real = Path(os.path.realpath(path))
    return all(folder.stat().st_mode & 0o001 for folder in real.parents) and bool(real.stat().st_mode & 0o001)


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own needs the grader to run as root")
def test_everything_of_the_submissions_uid_dies_with_it() -> None:
    """A process that left its session (what a double fork does) is found by its uid and killed."""
    from comparisons.audit import isolation

    uid = sandbox.child_uid()
    stray = subprocess.Popen(["sleep", "60"], user=uid, group=uid, extra_groups=[], start_new_session=True)
    try:
        isolation._kill_uid(uid)
        assert stray.wait(timeout=10) == -9
    finally:
        stray.kill()


UNREACHABLE = not _reachable_by_others(Path(sys.executable))


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own needs the grader to run as root")
@pytest.mark.skipif(
    UNREACHABLE,
    reason=f"this interpreter ({os.path.realpath(sys.executable)}) cannot be run by another uid; "
    "Gradescope's python3 is /usr/bin/python3",
)
def test_as_a_uid_of_its_own_a_forger_is_contained(
    capsys: pytest.CaptureFixture[str], autograder: Path, tmp_path: Path
) -> None:
    root = tmp_path / "autograder"
    root = lay_out(tmp_path, autograder, ("forger.py", hostile(root / "results")))
    assert main(["autograder", "run", "--root", str(root), "--isolation", "uid"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    time.sleep(2)
    assert json.loads((root / "results" / "results.json").read_text()) == results
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    assert results["score"] == 0
    capsys.readouterr()
