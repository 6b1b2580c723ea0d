"""Every example in README.md and docs/ prints what it says it prints.

An example is a fenced code block whose first line starts with ``$ ``. Each ``$ `` line is run
by bash from the root of a temporary copy of the repository (so ``examples/...`` resolve, and what
a command writes stays out of the checkout), and its stdout and stderr together, as a terminal
shows them, are compared with the lines that follow it up to the next ``$ `` line. In the
expected text a line ``...`` stands for any number of lines, and timings are masked on both
sides. ``echo $?`` prints the status of the command before it, as in a shell. The examples of
one run share one Keras cache, empty at the start, so a Keras side that several examples need
is computed once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import fcntl
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROMPT = "$ "
ELISION = "..."
TOOL = ["python", "-m", "comparisons"]

# Marked long, over 20 s here: the report (four runs of 100 epochs), a graded class (a process per
# submission), the bench (it times Keras's plain path, one fit per epoch: minutes), and an audit
# against a network of one's own: of a step (Keras's per-step states under every init, 25 s) or
# of a sheet (10 s, but the quick examples then take 35-42 s on two cores instead of 30-35)
LONG_SUBCOMMANDS = {"report", "grade", "bench"}

# Seconds and speed-ups are the machine's, not the tool's: "205.42 s", "(95.8x faster)", "(0.167 of the first)"
TIMINGS = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "<N> s"),
    (re.compile(r"\(\d+(\.\d+)?x faster\)"), "(<N>x faster)"),
    (re.compile(r"\(\d+(\.\d+)? of ([^)]*)\)"), r"(<N> of \2)"),
]

# Left out of the copy: the history and the tools' caches, anywhere, and at the root the outputs
# of earlier runs (what .gitignore keeps out), which would change what `--out report` finds
CACHES = {".git", ".tox", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
EARLIER_OUTPUTS = {"build", "report", "gradebook"}


@dataclasses.dataclass(frozen=True)
class Command:
    line: int  # 1-based, in its page
    text: str  # after the prompt
    expected: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Example:
    page: str  # relative to the repository
    commands: tuple[Command, ...]

    @property
    def line(self) -> int:
        return self.commands[0].line

    @property
    def id(self) -> str:
        words = self.commands[0].text.split()
        if words[:3] == TOOL:
            words = words[3:]
        return f"{self.page}:{self.line} {' '.join(words[:3])}"

    @property
    def long(self) -> bool:
        return any(
            subcommand(command.text) in LONG_SUBCOMMANDS
            or ("audit" in command.text.split()[3:5] and "--layers" in command.text.split())
            for command in self.commands
            if subcommand(command.text)
        )


def examples_in(page: Path) -> list[Example]:
    """The page's fenced blocks that start with a prompt, each cut into its commands."""
    found: list[Example] = []
    block: list[tuple[int, str]] | None = None
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        if line.startswith("```"):
            if block is None:
                block = []
                continue
            if block and block[0][1].startswith(PROMPT):
                found.append(Example(str(page.relative_to(ROOT)), _commands(block)))
            block = None
        elif block is not None:
            block.append((number, line))
    return found


def _commands(block: list[tuple[int, str]]) -> tuple[Command, ...]:
    commands: list[Command] = []
    for number, line in block:
        if line.startswith(PROMPT):
            commands.append(Command(number, line.removeprefix(PROMPT), ()))
        else:
            last = commands[-1]
            commands[-1] = dataclasses.replace(last, expected=(*last.expected, line))
    return tuple(commands)


def masked(lines: Sequence[str]) -> list[str]:
    """Timings masked, and trailing blanks dropped: a terminal shows neither difference."""
    result = []
    for line in lines:
        for pattern, mask in TIMINGS:
            line = pattern.sub(mask, line)
        result.append(line.rstrip())
    return result


def matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Line by line, with an elision line matching any number of lines, none included."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == ELISION else re.escape(line) + r"\n" for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def subcommand(command: str) -> str | None:
    """`report` of ``python -m comparisons report --out report``; None for another program."""
    words = command.split()
    return words[3] if words[:3] == TOOL and len(words) > 3 else None


def keras_side(command: str) -> str | None:
    """Roughly, which Keras computations a command needs: its subcommand and the network it names
    (``audit --problem regression``, ``formulas audit --network ...``, ``--layers 3,5,4,2``)."""
    if subcommand(command) in (None, "bench") or command.split()[3:5] == ["formulas", "derive"]:
        return None  # echo, head, sed; the bench, which keeps caches of its own; sympy alone derives a sheet
    words = command.split()[3:]
    verb = []
    while words and not words[0].startswith("-") and "/" not in words[0] and "." not in words[0]:
        verb.append(words.pop(0))
    network = "-"
    for option, value in itertools.pairwise(words):
        if option in ("--problem", "--layers"):
            network = value
        elif option == "--network":
            network = "document"  # --network auto computes both of the document's
    return "_".join([*verb, network]).replace(",", "-")


def _distinct(examples: list[Example]) -> list[Example]:
    """Each example once: the README's repeat ones from docs/, and running a copy proves nothing new."""
    seen: set[tuple[tuple[str, tuple[str, ...]], ...]] = set()
    distinct = []
    for example in examples:
        shown = tuple((command.text, command.expected) for command in example.commands)
        if shown not in seen:
            seen.add(shown)
            distinct.append(example)
    return distinct


def _by_keras_side(examples: list[Example]) -> list[Example]:
    """Examples that need the same Keras side next to each other, the first to need it first, so
    the rest find it cached. xdist hands each worker a contiguous run of tests and steals from the
    tail of a queue, where a group split across workers may compute a side twice (a sheet's
    network before the page that needs both): so groups first, the smaller first, then single
    examples, and last those that need no Keras at all, the cheapest to end a queue with. Where
    the long ones run too, they start first."""
    groups: dict[str | None, list[Example]] = {}
    for example in examples:
        sides = [keras_side(command.text) for command in example.commands]
        groups.setdefault(next((side for side in sides if side), None), []).append(example)

    def order(side: str | None) -> tuple[bool, bool, int]:
        return side is None, len(groups[side]) == 1, len(groups[side])

    grouped = [example for side in sorted(groups, key=order) for example in groups[side]]
    return sorted(grouped, key=lambda example: not example.long)


ALL = [example for page in PAGES for example in examples_in(page)]
DISTINCT = _by_keras_side(_distinct(ALL))


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One Keras cache for every example of the run, shared by xdist's workers (entries are
    renamed into place, so two workers writing one entry is safe)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base if worker_id == "master" else base.parent) / "docs-cache"
    shared.mkdir(exist_ok=True)
    return shared


def _copy_of_the_repository(folder: Path) -> Path:
    """The checkout's files, without its history and caches: the examples' paths resolve as from
    the repository's root, and what a command writes (``--out report``, ``> deep.tex``) lands in
    the copy. Compiled modules come along, still valid (copied with their sources' times)."""

    def left_out(parent: str, names: list[str]) -> set[str]:
        at_root = Path(parent) == ROOT
        return {
            name
            for name in names
            if name in CACHES or name.endswith(".egg-info") or (at_root and name in EARLIER_OUTPUTS)
        }

    copy = folder / ROOT.name
    shutil.copytree(ROOT, copy, symlinks=True, ignore=left_out)
    return copy


@contextlib.contextmanager
def _one_at_a_time(cache_home: Path, side: str | None) -> Iterator[None]:
    """Two examples that need the same Keras side, on two workers: the second waits for the first
    to cache it rather than compute it a second time (a TensorFlow import, seconds of CPU)."""
    if side is None:
        yield
        return
    with (cache_home / f"{side}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, id=e.id, marks=[pytest.mark.docs, *([pytest.mark.long] if e.long else [])]) for e in DISTINCT],
)
def test_example_prints_what_it_shows(example: Example, cache_home: Path, tmp_path: Path) -> None:
    work = _copy_of_the_repository(tmp_path)
    env = os.environ | {"XDG_CACHE_HOME": str(cache_home), "PYTHONUNBUFFERED": "1"}
    # the examples show the default environment; with oneDNN asked for, stderr carries a notice
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    status = 0
    failures = []
    for command in example.commands:
        with _one_at_a_time(cache_home, keras_side(command.text)):
            done = subprocess.run(
                ["bash", "-c", f"(exit {status}); {command.text}"],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=1800,
                check=False,
            )
        status = done.returncode
        expected, actual = masked(command.expected), masked(done.stdout.splitlines())
        if not matches(expected, actual):
            diff = difflib.unified_diff(expected, actual, "shown", "printed", lineterm="")
            failures.append(f"line {command.line}: $ {command.text}\n" + "\n".join(diff))
    if failures:
        pytest.fail(f"{example.page}, the example at line {example.line}:\n" + "\n\n".join(failures), pytrace=False)


def test_elision_and_masks() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "  ...", "d"], ["a", "d"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a", "  ... and 31 more"], ["a", "b"])
    shown = masked(["  first, empty cache: 8.59 s", "  fast:  2.15 s (95.8x faster)", "  1.43 s (0.167 of the first)"])
    printed = masked(["  first, empty cache: 12 s", "  fast:  3.07 s (61.2x faster)", "  0.9 s (0.2 of the first)"])
    assert shown == printed
    assert masked(["threshold 1e-10; max distance 9.42e-16"]) == ["threshold 1e-10; max distance 9.42e-16"]


def test_the_readme_shows_each_capability() -> None:
    """One example each of the main job, the audit, a formula sheet, grading and a network: also
    what keeps a parser that found no example from passing by running nothing."""
    shown = {subcommand(command.text) for example in ALL if example.page == "README.md" for command in example.commands}
    assert {"report", "audit", "formulas", "grade", "--layers"} <= shown


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's: lower case, punctuation but hyphens dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings, fenced = set(), False
    for line in page.read_text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("#"):
            headings.add(_anchor(line.lstrip("#")))
    return headings


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_links_resolve(page: Path) -> None:
    """A section moved or renamed breaks no link between the README and docs/."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not ours to check offline
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_the_readme_links_every_page() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in LINK.findall((ROOT / "README.md").read_text())}
    assert set(PAGES[1:]) <= linked
