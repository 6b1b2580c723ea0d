"""Every subcommand's output, before and after a change: ``python -m tests.golden --against REV``.

The redesign's safety net. A fixed set of commands covers every subcommand and
every output format: the main job's table (the document's problems, a known bug,
a network), the report's CSV and Markdown files, audits in text and JSON (a
step, a notebook under the tutorial contract, a network), a graded class with
its gradebook, formula audits and derivations, the cache's and the bench's
JSON, and bad input. Each command's exit status, stdout, stderr and the files
it writes are captured from this checkout and from a ``git worktree`` of REV, on
this machine (so the machine's own last bits cancel out), each with an empty
cache of its own, and compared byte for byte. Masked: the run's temporary
folder and the checkout's, and the bench's seconds. report.html is left out: it records when it
was made.

``python -m tests.golden capture DIR`` captures this checkout alone.
Exit status: 0 identical, 1 different (each difference shown as a unified diff).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETWORK = "--layers 3,5,4,2 --activations tanh,relu,softmax --loss categorical_crossentropy --optimizer adam"
CLASS = "grade examples/class_regression --problem regression --epochs 10 --no-sandbox --quiet"
COMMANDS = {
    "check-document": "--epochs 30 --init all",
    "check-known-bug": "--problem classification --init random --implementation W1-indices-swapped --epochs 5 "
    "--dtype float32",
    "check-network": f"{NETWORK} --batch-size 3 --rows 10 --epochs 10",
    "check-network-bug": f"{NETWORK} --batch-size 3 --rows 10 --epochs 5 --init random --implementation adam-pytorch",
    "check-bad-option": "--epochs 0",
    "check-bad-csv": "--problem regression --data {work}/missing.csv",
    "report": "report --problem regression --epochs 20 --out {work}/report",
    "audit-notebook-rules": "audit examples/notebook_regression.py --problem regression --epochs 10",
    "audit-learner-json": "audit examples/learner_regression.py --problem regression --epochs 10 --json",
    "audit-correct-classification": "audit examples/correct_classification.py --problem classification --epochs 10",
    "audit-tutorial-notebook": "audit examples/tutorial_regression.ipynb --problem regression --contract tutorial "
    "--epochs 10",
    "audit-network": "audit examples/network_learner.py --layers 3,4,2 --batch-size 3 --rows 10 --init random "
    "--epochs 10 --json",
    "audit-missing-file": "audit examples/no_such_file.py --problem regression",
    "grade": f"{CLASS} --out {{work}}/gradebook",
    "grade-json": f"{CLASS} --json",
    "formulas-audit-page": "formulas audit examples/tutorial_page.md --network auto",
    "formulas-audit-sheet-json": "formulas audit comparisons/sheets/document_classification.txt "
    "--network classification --json",
    "formulas-derive": "formulas derive --network classification",
    "formulas-derive-network": "formulas derive --layers 2,2,2,1 --activations tanh,relu,sigmoid "
    "--loss binary_crossentropy",
    "cache-info": "cache info --json",
    "bench-keras": "bench --part keras --epochs 2 --json --quiet",
}
_SECONDS = re.compile(r'("[a-z_]*_s": )[0-9.]+|("(speedup|audit_ratio)": )[0-9.]+')


def capture(checkout: Path, out: Path) -> None:
    """Each command's outputs, run in ``checkout``, as files under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="golden-") as folder:
        work = Path(folder)
        env = os.environ | {"XDG_CACHE_HOME": str(work / "cache"), "PYTHONPATH": str(checkout)}
        for name, line in COMMANDS.items():
            args = shlex.split(line.replace("{work}", str(work)))
            done = subprocess.run(
                [sys.executable, "-m", "comparisons", *args], capture_output=True, text=True, cwd=checkout, env=env
            )
            text = f"$ python -m comparisons {line}\nexit {done.returncode}\n--- stdout\n{done.stdout}"
            text += f"--- stderr\n{done.stderr}"
            for written in sorted(p for p in work.rglob("*") if p.is_file() and "cache" not in p.parts):
                if written.suffix in (".csv", ".md"):
                    text += f"--- {written.relative_to(work)}\n{written.read_text()}"
            text = _SECONDS.sub(
                lambda m: (m.group(1) or m.group(2)) + "S",
                text.replace(str(work), "{work}").replace(str(checkout), "{checkout}"),
            )
            (out / f"{name}.txt").write_text(text)
            for folder_written in ("report", "gradebook"):
                subprocess.run(["rm", "-rf", str(work / folder_written)], check=True)


def compare(before: Path, after: Path) -> int:
    differences = 0
    for name in COMMANDS:
        a, b = (before / f"{name}.txt").read_text(), (after / f"{name}.txt").read_text()
        if a != b:
            differences += 1
            sys.stdout.writelines(
                difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"before/{name}", f"after/{name}")
            )
    print(f"{len(COMMANDS) - differences} of {len(COMMANDS)} commands give identical outputs")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action")
    commands.add_parser("capture").add_argument("dir")
    parser.add_argument("--against", metavar="REV", help="a commit to compare this checkout with")
    args = parser.parse_args()
    if args.action == "capture":
        capture(ROOT, Path(args.dir))
        return 0
    if not args.against:
        parser.error("give --against REV, or capture DIR")
    with tempfile.TemporaryDirectory(prefix="golden-compare-") as folder:
        base = Path(folder) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.against], check=True, cwd=ROOT)
        try:
            capture(base, Path(folder) / "before")
            capture(ROOT, Path(folder) / "after")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], check=True, cwd=ROOT)
        return compare(Path(folder) / "before", Path(folder) / "after")


if __name__ == "__main__":
    sys.exit(main())
