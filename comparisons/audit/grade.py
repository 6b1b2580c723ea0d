"""Grade a class: audit a folder of submissions in one run, into a gradebook.

Every submission of one problem is compared with the same Keras runs, so they
are computed once (TensorFlow imported once, or not at all when the cache holds
them) and shared; each submission still runs in a process of its own under the
time and memory limits, several at a time. One bad submission is graded
``error`` with its one-line reason and the rest go on; an interrupted run
writes the gradebook of what finished.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from comparisons.audit.auditor import audit, check_auditable
from comparisons.audit.isolation import stop_all_children
from comparisons.audit.keras_steps import AuditSpec, arch_of, keras_side
from comparisons.audit.model import Audit, Contract
from comparisons.audit.optimizer_audit import OptimizerAudit, OptimizerJob
from comparisons.audit.render.feedback import error_feedback, feedback
from comparisons.audit.render.html import gradebook_html
from comparisons.audit.render.tables import final_grades_csv, grades_csv
from comparisons.audit.rubric import DEFAULT_RUBRIC, Rubric
from comparisons.audit.sandbox import Sandboxing
from comparisons.audit.scores import Score, error_score, score
from comparisons.errors import InputError
from comparisons.folders import check_out, write_folder

__all__ = ["MARKER", "Grade", "grade", "submissions", "tensors_of", "write_gradebook"]

MARKER = ".comparisons-gradebook"
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Grade:
    path: str
    audit: Audit | OptimizerAudit | None  # None: an error
    error: str | None = None
    score: Score | None = None  # the rubric's
    feedback: str = ""  # what the student reads (comparisons.audit.render.feedback)

    @property
    def verdict(self) -> str:
        return "error" if self.audit is None else self.audit.verdict


def submissions(paths: list[Path]) -> list[Path]:
    """The .py and .ipynb files named, or inside the folders named (recursively), sorted."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)  # hidden, below the folder
            )
        else:
            found.append(path)
    if not found:
        raise InputError(f"no submissions (.py or .ipynb files) in {', '.join(map(str, paths))}")
    return list(dict.fromkeys(found))


def _one(
    path: Path,
    contract: Contract,
    base: AuditSpec,
    inits: list[str],
    timeout: float,
    memory: int,
    sandboxed: Sandboxing,
    optimizer: OptimizerJob | None = None,
    rubric: Rubric = DEFAULT_RUBRIC,
) -> Grade:
    graded = _audited(path, contract, base, inits, timeout, memory, sandboxed, optimizer)
    if graded.audit is not None:
        scored = score(graded.audit, graded.audit.tensors, rubric)
        return replace(graded, score=scored, feedback=feedback(graded.audit, scored, rubric))
    scored = error_score(
        graded.error or "", tensors_of(base, optimizer), rubric, optimizer is None and base.is_document
    )
    return replace(graded, score=scored, feedback=error_feedback(graded.error or "", scored))


def tensors_of(base: AuditSpec, optimizer: OptimizerJob | None) -> list[str]:
    """The tensors a submission is graded by, in order (the rubric's groups): its network's, or the
    optimizer audit's own network's."""
    arch = optimizer.spec.arch if optimizer is not None else arch_of(base)
    return [key for key, _ in arch.shapes()]


def _audited(
    path: Path,
    contract: Contract,
    base: AuditSpec,
    inits: list[str],
    timeout: float,
    memory: int,
    sandboxed: Sandboxing,
    optimizer: OptimizerJob | None,
) -> Grade:
    try:
        if optimizer is not None:
            return Grade(str(path), optimizer.run(path, inits, timeout, memory, sandboxed))
        return Grade(str(path), audit(path, contract, base, inits, timeout, memory, sandboxed=sandboxed))
    except InputError as error:
        message = str(error)
        prefix = f"{path}: "
        return Grade(str(path), None, message[len(prefix) :] if message.startswith(prefix) else message)
    except Exception as error:  # a fault of ours on one submission must not stop the class
        return Grade(str(path), None, f"internal error while grading it: {type(error).__name__}: {error}")


def grade(
    paths: list[Path],
    contract: Contract,
    base: AuditSpec,
    inits: list[str],
    *,
    timeout: float,
    memory: int,
    jobs: int,
    progress: Callable[[str], None],
    each: Callable[[Grade], None] = lambda grade: None,
    sandboxed: Sandboxing = False,
    optimizer: OptimizerJob | None = None,
    rubric: Rubric = DEFAULT_RUBRIC,
) -> tuple[list[Grade], bool]:
    """Every submission's grade, in the order given; and whether the run was interrupted
    (then the grades are those that finished). ``sandboxed``: each in bubblewrap. ``optimizer``:
    a learner's optimizer (the dlai or class contract) is graded, not a step."""
    if optimizer is None and not base.is_document:
        check_auditable(base, contract)  # once, before any Keras run, not once per submission
    for n, init in enumerate(inits if optimizer is None else [], start=1):
        progress(f"Keras runs {n}/{len(inits)} (init {init})")
        keras_side(base.with_(init=init))  # once, here: the threads below only read it
    done: dict[Path, Grade] = {}
    interrupted = False
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures: dict[Future[Grade], Path] = {
        pool.submit(_one, path, contract, base, inits, timeout, memory, sandboxed, optimizer, rubric): path
        for path in paths
    }
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                done[futures[future]] = result
                each(result)
                progress(_bar(len(done), len(paths)))
    except KeyboardInterrupt:
        interrupted = True
        for future in futures:
            future.cancel()
        stop_all_children()  # they run in sessions of their own: Ctrl-C did not reach them
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return [done[path] for path in paths if path in done], interrupted


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total
    return f"grading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def write_gradebook(out: Path, grades: list[Grade], settings: str, interrupted: bool, otter: bool = False) -> None:
    """grades.csv and grades.html; with ``otter``, Otter-Grader's final_grades.csv beside them."""

    def write(staging: Path) -> None:
        (staging / "grades.csv").write_text(grades_csv(grades), encoding="utf-8")
        (staging / "grades.html").write_text(gradebook_html(grades, settings, interrupted), encoding="utf-8")
        if otter:
            (staging / "final_grades.csv").write_text(final_grades_csv(grades), encoding="utf-8")

    write_folder(out, MARKER, "gradebook", write)


def check_gradebook_folder(out: Path) -> None:
    check_out(out, MARKER, "gradebook")
