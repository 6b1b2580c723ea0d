"""Write an output folder all at once: staged beside it, then swapped into place.

An interrupted run leaves the previous folder or none, never half of one. A
folder is replaced only if it is empty or was written by the same command (a
marker file says so), so a mistyped --out cannot wipe someone's files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from comparisons.errors import InputError

__all__ = ["check_out", "write_folder"]


def check_out(out: Path, marker: str, what: str) -> None:
    """Refuse, before any work, a folder this command may not replace."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise InputError(f"{out}: folder is not empty and holds no earlier {what}; choose a new or empty folder")


def write_folder(out: Path, marker: str, what: str, write: Callable[[Path], None]) -> None:
    """``write(staging)`` fills a fresh folder, which then replaces ``out``."""
    check_out(out, marker, what)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write(staging)
        (staging / marker).write_text(f"written by python -m comparisons ({what}); safe to replace\n", encoding="utf-8")
        os.chmod(staging, 0o755)  # mkdtemp makes it private
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            out.rename(retired / out.name)
            staging.rename(out)
            shutil.rmtree(retired)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
