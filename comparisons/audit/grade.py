"""Grade a class: audit a folder of submissions in one run, into a gradebook.

Every submission of one problem is compared with the same Keras runs, so they
are computed once (TensorFlow imported once, or not at all when the cache holds
them) and shared; each submission still runs in a process of its own under the
time and memory limits, several at a time. One bad submission is graded
``error`` with its one-line reason and the rest go on; an interrupted run
writes the gradebook of what finished.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from comparisons.audit.auditor import audit, check_auditable
from comparisons.audit.isolation import stop_all_children
from comparisons.audit.keras_steps import AuditSpec, keras_side
from comparisons.audit.model import Audit, Contract
from comparisons.audit.render import as_json
from comparisons.errors import InputError
from comparisons.folders import check_out, write_folder
from comparisons.network import NetworkSpec

__all__ = ["MARKER", "Grade", "grade", "submissions", "write_gradebook"]

MARKER = ".comparisons-gradebook"
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Grade:
    path: str
    audit: Audit | None  # None: an error
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "error" if self.audit is None else self.audit.verdict

    def as_json(self) -> dict[str, Any]:
        if self.audit is None:
            return {"path": self.path, "verdict": "error", "error": self.error}
        return {"path": self.path, **as_json(self.audit)}

    def row(self) -> dict[str, str]:
        """One line of grades.csv."""
        row = dict.fromkeys(COLUMNS, "")
        row |= {"path": self.path, "verdict": self.verdict, "error": self.error or ""}
        if self.audit is None:
            return row
        first = self.audit.first_divergence
        if first is not None:
            row |= {
                "first_init": first.init,
                "first_epoch": str(first.epoch),
                "first_step": str(first.step),
                "first_values": " ".join(p["name"] for p in first.parameters),
            }
        row["findings"] = "; ".join(f"{f.kind}: {' '.join(f.parameters)}" for f in self.audit.findings)
        row["known_bugs"] = " ".join(self.audit.bugs or [])
        return row


COLUMNS = [
    "path",
    "verdict",
    "first_init",
    "first_epoch",
    "first_step",
    "first_values",
    "findings",
    "known_bugs",
    "error",
]


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
    path: Path, contract: Contract, base: AuditSpec, inits: list[str], timeout: float, memory: int, sandboxed: bool
) -> Grade:
    try:
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
    sandboxed: bool = False,
) -> tuple[list[Grade], bool]:
    """Every submission's grade, in the order given; and whether the run was interrupted
    (then the grades are those that finished). ``sandboxed``: each in bubblewrap."""
    if isinstance(base, NetworkSpec):
        check_auditable(base, contract)  # once, before any Keras run, not once per submission
    for n, init in enumerate(inits, start=1):
        progress(f"Keras runs {n}/{len(inits)} (init {init})")
        keras_side(base.with_(init=init))  # once, here: the threads below only read it
    done: dict[Path, Grade] = {}
    interrupted = False
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures: dict[Future[Grade], Path] = {
        pool.submit(_one, path, contract, base, inits, timeout, memory, sandboxed): path for path in paths
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


def grades_csv(grades: list[Grade]) -> str:
    buffer = io.StringIO()
    pd.DataFrame([g.row() for g in grades], columns=COLUMNS).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.match { color: #070; } .diverged { color: #b00; } .error { color: #a60; }
pre { font-size: 0.85em; white-space: pre-wrap; margin: 0.5em 0; }
"""


def _counts_table(title: str, counts: Counter[str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in sorted(counts.items()))
    return (
        f"<table><thead><tr><th>{html.escape(title)}</th><th>submissions</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def grades_html(grades: list[Grade], settings: str, interrupted: bool) -> str:
    """Self-contained: counts per verdict and per finding kind, then a row per submission that
    expands to its first-divergence table and diagnosis."""
    verdicts = Counter(g.verdict for g in grades)
    kinds = Counter(kind for g in grades if g.audit for kind in {f.kind for f in g.audit.findings})
    rows = []
    for g in grades:
        if g.audit is None:
            detail = html.escape(g.error or "")
        else:
            detail = f"<details><summary>details</summary><pre>{html.escape(str(g.audit))}</pre></details>"
        rows.append(f'<tr><td>{html.escape(g.path)}</td><td class="{g.verdict}">{g.verdict}</td><td>{detail}</td></tr>')
    note = "<p><b>Interrupted: these are the submissions that finished.</b></p>" if interrupted else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Gradebook</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>Gradebook</h1><p>{html.escape(settings)}</p>{note}\n"
        + _counts_table("verdict", verdicts)
        + _counts_table("finding kind", kinds)
        + "<table><thead><tr><th>submission</th><th>verdict</th><th>first divergence and diagnosis</th></tr>"
        + "</thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table>\n</body></html>\n"
    )


def write_gradebook(out: Path, grades: list[Grade], settings: str, interrupted: bool) -> None:
    def write(staging: Path) -> None:
        (staging / "grades.csv").write_text(grades_csv(grades), encoding="utf-8")
        (staging / "grades.html").write_text(grades_html(grades, settings, interrupted), encoding="utf-8")

    write_folder(out, MARKER, "gradebook", write)


def check_gradebook_folder(out: Path) -> None:
    check_out(out, MARKER, "gradebook")


def json_lines(grades: list[Grade]) -> Iterator[str]:
    for g in grades:
        yield json.dumps(g.as_json())
