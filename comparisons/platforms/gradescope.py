"""Gradescope's autograder: the zip an instructor uploads, and what ``run_autograder`` does with it.

Gradescope unzips the autograder into /autograder/source, runs ``setup.sh`` once to build the
image, then for each submission copies the student's files into /autograder/submission, runs
/autograder/run_autograder as root, and shows the student /autograder/results/results.json
(gradescope-autograders.readthedocs.io, "Autograder Specifications"); stdout goes to instructors.

The zip holds this project's source (setup.sh installs it with the python3 first on PATH, and
bubblewrap), ``autograder.json`` (the grading options, as ``grade`` takes them, and the rubric's
TOML), and ``run_autograder``, which runs ``python3 -m comparisons autograder run``. Where
bubblewrap cannot make its namespaces (a container without user namespaces), the submission's
process runs as a uid of its own instead, everything of that uid killed when it ends; either way
the submission cannot reach results/, and results.json is written last, by the grading parent
alone, replacing whatever is there.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from comparisons.errors import InputError

__all__ = ["CONFIG", "SUFFIXES", "build_zip", "guard_results", "read_config", "submission", "write_results"]

CONFIG = "autograder.json"
SUFFIXES = (".py", ".ipynb")
# what of this project the zip carries: enough for ``pip install`` (pyproject.toml's packages)
_PROJECT = ("pyproject.toml", "README.md", "manual", "reference", "comparisons")

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the grading image: this project, and bubblewrap
# (the sandbox; where the container forbids its namespaces, each submission runs as a uid of its own)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-pip bubblewrap >/dev/null
python3 -m pip install --quiet /autograder/source/project \\
    || python3 -m pip install --quiet --break-system-packages /autograder/source/project
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: the audit's full text on stdout (instructors
# only), results.json for the student. AUTOGRADER_ROOT points elsewhere than /autograder (tests).
exec python3 -m comparisons autograder run --root "${AUTOGRADER_ROOT:-/autograder}"
"""


def _project_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise InputError(f"{root}: no pyproject.toml; autograder gradescope builds from the project's source")
    return root


def build_zip(out: Path, options: list[str], rubric: str | None) -> None:
    """``options``: the grading options, as ``grade`` takes them; ``rubric``: the TOML text, or None
    (the default). Written whole, or not at all."""
    if out.is_dir() or not out.parent.is_dir():
        raise InputError(f"{out}: {'a folder' if out.is_dir() else 'no such folder to write it in'}; --out is the zip")
    root = _project_root()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP, executable=True)
        _add(archive, "run_autograder", RUN, executable=True)
        _add(archive, CONFIG, json.dumps({"options": options, "rubric": rubric}, indent=2) + "\n")
        for name in _PROJECT:
            path = root / name
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                _add(archive, f"project/{file.relative_to(root).as_posix()}", file.read_bytes())
    _write_whole(out, buffer.getvalue())


def _add(archive: zipfile.ZipFile, name: str, data: str | bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # the same bytes for the same project
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def _write_whole(out: Path, data: bytes) -> None:
    """Written beside its place, then renamed into it: never half a file."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as error:
        raise InputError(f"{out}: cannot write it: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_config(root: Path) -> dict[str, Any]:
    """autograder.json: the options (strings), and the rubric's TOML (a string, or null)."""
    path = root / "source" / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not the autograder's configuration ({error})") from None
    options, rubric = (config.get("options"), config.get("rubric")) if isinstance(config, dict) else (None, None)
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise InputError(f"{path}: not the autograder's configuration (options must be a list of strings)")
    if rubric is not None and not isinstance(rubric, str):
        raise InputError(f"{path}: not the autograder's configuration (the rubric must be TOML text)")
    return config


def submission(root: Path) -> Path:
    """The one .py or .ipynb the student handed in, wherever in submission/ (hidden files aside).
    Links are not followed: a link is not a file handed in, and could point at the grader's own."""
    folder = root / "submission"
    found: list[Path] = []
    links: list[Path] = []
    for parent, folders, files in os.walk(folder):  # followlinks=False: a linked folder is not entered
        here = Path(parent)
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or path.suffix not in SUFFIXES:
                continue
            (links if path.is_symlink() else found).append(path)
    if not found:
        said = f" ({', '.join(p.relative_to(folder).as_posix() for p in links)} a link)" if links else ""
        raise InputError(f"no .py or .ipynb file in your submission{said}")
    if len(found) > 1:
        names = ", ".join(p.relative_to(folder).as_posix() for p in found)
        raise InputError(f"your submission has several files ({names}): hand in one .py or .ipynb")
    return found[0]


def write_results(root: Path, results: dict[str, Any]) -> Path:
    """results/results.json, replacing whatever is there: a file, a link, a folder left in its place."""
    out = root / "results" / "results.json"
    out.parent.mkdir(exist_ok=True)  # Gradescope makes it; a folder laid out by hand may not have it
    if out.is_dir() and not out.is_symlink():
        shutil.rmtree(out)
    _write_whole(out, (json.dumps(results, indent=2, allow_nan=False) + "\n").encode())
    return out


def guard_results(root: Path) -> None:
    """results/ the grader's alone while a submission runs as a uid of its own: owned by root, 0755."""
    folder = root / "results"
    folder.mkdir(exist_ok=True)
    os.chown(folder, 0, 0)
    folder.chmod(0o755)
