"""Bubblewrap around a submission's process: what it can see, write and reach.

``wrap`` turns the worker's command into one run by ``bwrap`` (Debian's
``bubblewrap`` package): a filesystem built for the child alone, read-only
except a small tmpfs at /tmp (its working folder) and the two files it answers
in; no network (a namespace of its own, with only a loopback of its own); its
own process namespace (it sees no other process, and everything in it dies with
the grader); and, where the grader runs as root, the child drops to a uid of
its own (``child_uid``: one per child, so one child's fork loop cannot use up
another's process limit) before any user code runs, so the process limit binds
and nothing the grader owns is writable. The root of its filesystem is
remounted read-only last, so the folders bwrap makes there are not writable
either, even where bwrap runs unprivileged and the child owns them.

What is mounted, read-only: the system's /usr (and its /bin, /lib links), the
Python installation and the folder numpy is installed in, this project's two
packages the worker imports, and the submission itself at /run/submission/NAME.
Not mounted: the grader's home, its working folder, the gradebook, other
submissions, /etc.

The command ``wrap`` returns fails to start only if bwrap cannot set the
namespaces up (a container that forbids them); ``problem()`` runs one tiny
child to find that out once, and says why in one line.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from comparisons.audit import protocol

__all__ = [
    "INSTALL",
    "RESULTS",
    "SUBMISSION",
    "TMP_MIB",
    "UID_ALONE",
    "Sandboxing",
    "available",
    "child_uid",
    "exit_status",
    "problem",
    "wrap",
]

INSTALL = "apt-get install bubblewrap (Debian, Ubuntu) or dnf install bubblewrap (Fedora), version 0.7 or later"
# a root grader's children drop to uids of their own, away from any real user's: the process
# limit counts per uid, so each child gets its own 256
_FIRST_UID, _UIDS = 1_610_000_000, 100_000
_uids = itertools.count()
_uids_lock = threading.Lock()
# How a submission's process is kept apart: True, in bubblewrap; UID_ALONE, without it (a container
# with no user namespaces, Gradescope's) but as a uid of its own, where the grader runs as root,
# everything of that uid killed when it ends; False, the process limits alone
UID_ALONE = "uid"
Sandboxing = bool | str
SUBMISSION = "/run/submission"  # where the child finds the submission (read-only)
RESULTS = "/run/audit"  # the result and progress files, the only files outside /tmp it may write
# its /tmp, also its working folder: a tmpfs, gone when it ends; twice the file-size limit, so one
# file too large is stopped by that limit (and named so), and many files by this one
TMP_MIB = 128

_PROJECT = Path(__file__).resolve().parents[2]


def child_uid() -> int:
    with _uids_lock:
        return _FIRST_UID + next(_uids) % _UIDS


def exit_status(status: int) -> int:
    """bwrap reports a child killed by signal n as 128 + n: as Popen reports it, -n."""
    return -(status - 128) if status > 128 else status


def available() -> str | None:
    """The path of bwrap, or None."""
    return shutil.which("bwrap")


def _system() -> list[str]:
    """/usr read-only, and the links a merged-/usr system has at /bin, /lib, /lib64, /sbin."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _python() -> list[str]:
    """The interpreter (its installation and a virtual environment's), numpy's folder, and this
    project's packages, each at the path it has here; parents before children."""
    folders = {
        Path(sys.base_prefix),
        Path(sys.prefix),
        Path(sys.base_exec_prefix),
        Path(sys.exec_prefix),
        Path(os.path.realpath(sys.executable)).parent.parent,
        Path(np.__file__).resolve().parent.parent,
        _PROJECT / "comparisons",
        _PROJECT / "manual",
    }
    outside_usr = sorted(str(f) for f in folders if f.is_dir() and not f.is_relative_to("/usr"))
    # bwrap makes missing parents 0700: made here 0755, or a child of another uid could not reach what is inside
    parents = sorted({str(p) for f in outside_usr for p in Path(f).parents if p != Path("/")} - set(outside_usr))
    made = [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)]
    return made + [arg for folder in outside_usr for arg in ("--ro-bind", folder, folder)]


def wrap(command: list[str], submission: Path, name: str, results: dict[str, Path]) -> list[str]:
    """``command`` run by bwrap; the file ``submission`` appears at SUBMISSION/``name``, each of
    ``results`` (sandbox name: a file of the grader's) at RESULTS/NAME, writable."""
    bwrap = available()
    if bwrap is None:
        raise FileNotFoundError(f"bwrap is not installed: {INSTALL}")
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--size", str(TMP_MIB << 20), "--tmpfs", "/tmp"]
    args += _system() + _python()
    args += ["--perms", "0755", "--dir", "/run", "--perms", "0755", "--dir", SUBMISSION]
    args += ["--ro-bind", str(submission), f"{SUBMISSION}/{name}"]
    args += ["--perms", "0755", "--dir", RESULTS]
    for name, path in results.items():
        args += ["--bind", str(path), f"{RESULTS}/{name}"]
    return [*args, "--remount-ro", "/", "--chdir", "/tmp", "--", *command]


@functools.cache
def problem() -> str | None:
    """Why the sandbox cannot run here (one line), or None: a child that imports numpy, once."""
    if available() is None:
        return f"bubblewrap (bwrap) is not installed: {INSTALL}"
    probe = Path(__file__)
    # what a child does before user code: become its own uid (as root), then import the worker
    uid = child_uid()
    drop = f"import os; os.setgroups([]); os.setgid({uid}); os.setuid({uid}); " if os.geteuid() == 0 else ""
    command = [sys.executable, "-c", drop + f"import numpy, {protocol.WORKER}"]
    try:
        done = subprocess.run(
            wrap(command, probe, probe.name, {}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            env={"PATH": os.defpath, "PYTHONNOUSERSITE": "1", "PYTHONPATH": str(_PROJECT)},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not run: {error}"
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        return f"bwrap cannot start a sandbox here: {last}"
    return None
