"""``autograder gradescope`` (build the zip) and ``autograder run`` (what run_autograder runs).

The zip's options are ``grade``'s, checked here as ``grade`` checks them before the zip is
written; ``run`` grades the one submission with them. A submission that cannot be read, times
out or runs out of memory gets a results.json that says so, scored 0; so does one the grader
fails on (the student is told it is not their code's fault, stdout says what it was).
"""

from __future__ import annotations

import argparse
import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comparisons.cli.grading import graded_with
from comparisons.cli.parser import PROG, build_parser
from comparisons.cli.specs import resolve
from comparisons.errors import InputError

if TYPE_CHECKING:
    from comparisons.audit.grade import Grade
    from comparisons.audit.rubric import Rubric

__all__ = ["gradescope_command", "run_command"]

_PLACEHOLDER = "submission.py"  # grade's options are checked on a path, before any submission


def _grade_args(options: list[str], path: str) -> argparse.Namespace:
    return resolve("grade", build_parser("grade").parse_args([path, *options]))


def gradescope_command(args: argparse.Namespace, argv: list[str]) -> int:
    """``argv``: the command line after ``autograder gradescope``: all but --out and --rubric go into
    the zip as grade's options, and the rubric's text beside them."""
    from comparisons.platforms.gradescope import build_zip

    options, skip = [], False
    for word in argv:
        if skip or word in ("--out", "--rubric") or word.startswith(("--out=", "--rubric=")):
            skip = word in ("--out", "--rubric")
            continue
        options.append(word)
    graded_with(_grade_args([*options, *(["--rubric", args.rubric] if args.rubric else [])], _PLACEHOLDER))
    rubric = Path(args.rubric).read_text(encoding="utf-8") if args.rubric else None
    build_zip(Path(args.out), options, rubric)
    print(f"Autograder written to {args.out}: upload it in Gradescope's autograder settings")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """Grade ROOT/submission's one file into ROOT/results/results.json: always a results.json,
    once ROOT is an autograder's folder. Whatever is wrong with the grading machine or the zip is
    said on stdout and told the student as not their code's."""
    from comparisons.audit.render.json import gradescope_json
    from comparisons.platforms.gradescope import read_config, submission, write_results

    root = Path(args.root)
    if not (root / "source").is_dir():
        raise InputError(f"{root}: not an autograder's folder (no source/, where Gradescope unzips the autograder)")
    try:
        try:
            config = read_config(root)
            scoring = _scoring(root, config)
        except InputError as error:
            raise GraderError(str(error)) from None
        try:
            path = submission(root)
        except InputError as error:  # no file, several: the student's, said, scored 0
            graded, rubric = _unread(scoring, str(error))
            print(f"not graded: {error}")
        else:
            graded, rubric = _graded(root, scoring, path, args.isolation)
            assert graded.score is not None
            said = str(graded.audit) if graded.audit is not None else f"error: {graded.error}"
            print(f"{said}\nScore: {graded.score.points:g}/{graded.score.max_points:g} ({graded.score.reason})")
    except GraderError as error:  # the machine's or the zip's: the student is told it is not their code's
        print(f"{PROG}: cannot grade here: {error}")
        graded, rubric = _unread(None, f"internal error while grading it: {error}")
    except Exception as error:  # a fault of ours: the same, and stdout has the traceback
        print(f"{PROG}: internal error: {type(error).__name__}: {error}\n{traceback.format_exc()}")
        graded, rubric = _unread(None, f"internal error while grading it: {type(error).__name__}")
    write_results(root, gradescope_json(graded, rubric))
    return 0


Scoring = tuple[Any, "Rubric", list[str], bool]


def _scoring(root: Path, config: dict[str, Any]) -> Scoring:
    """grade's setup from the zip's options (the same for any submission), the zip's rubric, the
    network's tensors (the rubric's groups), and whether they are the document's."""
    from comparisons.audit.grade import tensors_of
    from comparisons.audit.rubric import DEFAULT_RUBRIC, read_rubric_text

    args = _grade_args(list(config["options"]), _PLACEHOLDER)
    setup = graded_with(args)
    text = config.get("rubric")
    rubric = read_rubric_text(text, str(root / "source" / "autograder.json")) if text else DEFAULT_RUBRIC
    _, base, _, optimizer, _ = setup
    tensors = tensors_of(base, optimizer)
    rubric.points(tensors)
    return (args, setup), rubric, tensors, optimizer is None and base.is_document


def _isolation(asked: str) -> bool | str:
    """bubblewrap where it runs; else, as root, a uid of the submission's own; else nothing keeps it apart."""
    from comparisons.audit import sandbox

    problem = sandbox.problem() if asked != "uid" else "a uid of its own asked for"
    if problem is None:
        return True
    if asked == "bubblewrap":
        raise GraderError(problem)
    if os.geteuid() != 0:
        raise GraderError("nothing can keep the submission apart here: bubblewrap cannot run, and not as root")
    return sandbox.UID_ALONE


class GraderError(Exception):
    """The grading machine cannot grade: not the submission's fault (the student is told so)."""


def _graded(root: Path, scoring: Scoring, path: Path, isolation: str) -> tuple[Grade, Rubric]:
    from comparisons.audit import sandbox
    from comparisons.audit.grade import grade
    from comparisons.platforms.gradescope import guard_results

    (args, setup), rubric, _, _ = scoring
    contract, base, inits, optimizer, _ = setup
    sandboxed = _isolation(isolation)
    if sandboxed == sandbox.UID_ALONE:
        guard_results(root)
    grades, _ = grade(
        [path],
        contract,
        base,
        inits,
        timeout=args.timeout,
        memory=args.memory,
        jobs=1,
        progress=lambda message: None,
        sandboxed=sandboxed,
        optimizer=optimizer,
        rubric=rubric,
    )
    return grades[0], rubric


def _unread(scoring: Scoring | None, error: str) -> tuple[Grade, Rubric]:
    """A submission not graded: 0, and why, out of the zip's rubric (the default one, on the
    document's groups, where the zip itself is what failed)."""
    from comparisons.audit.grade import Grade
    from comparisons.audit.render.feedback import error_feedback
    from comparisons.audit.rubric import DEFAULT_RUBRIC
    from comparisons.audit.scores import error_score

    _, rubric, tensors, document = scoring or (None, DEFAULT_RUBRIC, ["W1", "b1", "W2", "b2"], True)
    scored = error_score(error, tensors, rubric, document)
    return Grade("submission", None, error, scored, error_feedback(error, scored)), rubric
