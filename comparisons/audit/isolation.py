"""The user's code in a process of its own (comparisons.audit.worker): limits, the sandbox, the
result read back as plain arrays."""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from comparisons.audit import limits, protocol, sandbox, worker
from comparisons.audit.sandbox import Sandboxing
from comparisons.errors import InputError

__all__ = ["stop_all_children", "user_runs"]


def user_runs(
    path: Path, func: str, job: dict[str, Any], timeout: float, memory: int | None, sandboxed: Sandboxing = False
) -> dict[str, Any]:
    """Run the user's step, free and teacher-forced; ``memory`` None: in this process (tests)."""
    if memory is None:
        outcome = worker.run(job, module_name=f"user_step_{next(_modules)}")
    else:
        outcome = _isolated(path, func, job, timeout, memory, sandboxed)
    if protocol.ERROR in outcome:
        message = str(outcome[protocol.ERROR])
        # the child names the file as it was given it, or where the sandbox shows it
        for prefix in (f"{path}: ", f"{path.resolve()}: ", f"{sandbox.SUBMISSION}/{path.name}: "):
            message = message.removeprefix(prefix)
        raise InputError(f"{path}: {message}")
    return outcome


_modules = itertools.count()


# What the child's Python and numpy need, and nothing of the parent's environment (tokens, keys)
_CHILD_ENV = {
    "PATH": os.defpath,
    "LANG": "C.UTF-8",
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # one thread: no BLAS pool reserving address space under the memory limit
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


_SIGNALS = {
    -signal.SIGXFSZ: f"wrote a file over the limit of {limits.FILE_SIZE_MIB} MiB",
    -signal.SIGXCPU: "used up its CPU time",
    -signal.SIGKILL: "was killed",
}


_LIVE: set[subprocess.Popen[bytes]] = set()  # children running now, so an interrupted grader can stop them all


_LIVE_LOCK = threading.Lock()


def stop_all_children() -> None:
    """Kill every child process group still running (on Ctrl-C in the grader)."""
    with _LIVE_LOCK:
        for child in _LIVE:
            _kill_group(child)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """The child and whatever it forked into its session: nothing outlives its audit."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


def _open_own(path: Path) -> int:
    """A file of the child's folder, opened without following a link or blocking on a FIFO the
    child may have left there; OSError if it is not a plain file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a plain file")
    return fd


def _tail(handle: BinaryIO, limit: int = 4096) -> list[str]:
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - limit))
    return handle.read().decode(errors="replace").strip().splitlines()


def _isolated(
    path: Path, func: str, job: dict[str, Any], timeout: float, memory: int, sandboxed: Sandboxing
) -> dict[str, Any]:
    """The user's code in a child process: an empty working folder, a minimal environment, the
    job on stdin (closed before user code runs), limits on memory, CPU time, file size, open
    files and processes; with ``sandboxed``, inside bubblewrap (comparisons.audit.sandbox); its whole
    process group is killed when it ends; what it sends back is read as plain arrays and
    checked first, never unpickled."""
    with tempfile.TemporaryDirectory(prefix="comparisons-audit-") as folder:
        work = Path(folder)
        result, progress = work / "result.npz", work / "progress"
        (work / "cwd").mkdir()
        for answer in (result, progress):
            answer.write_bytes(b"")
        cpu = str(int(timeout) + 2)  # the CPU limit backs up the wall-clock one
        launch = [sys.executable, "-m", protocol.WORKER]
        uid_alone = sandboxed == sandbox.UID_ALONE
        if uid_alone:
            if os.geteuid() != 0:
                raise InputError("a uid of its own for each submission needs the grader to run as root")
            own = sandbox.child_uid()
            work.chmod(0o711)  # the child may reach its two answers and its copy, and list nothing
            for answer in (result, progress):
                answer.chmod(0o666)
            os.chown(work / "cwd", own, own)  # its working folder its own alone: no other uid plants a module there
            copy = work / "submission"
            copy.mkdir(mode=0o711)
            shutil.copyfile(path, copy / path.name)
            (copy / path.name).chmod(0o644)
            job = job | {"path": str(copy / path.name)}
            command = [*launch, str(result), str(progress), str(memory), cpu, str(own)]
            cwd = work / "cwd"
        elif sandboxed:
            for answer in (result, progress):
                answer.chmod(0o666)  # the child may run as a uid of its own; the folder around them stays ours alone
            names = {"result.npz": result, "progress": progress}
            results = {name: f"{sandbox.RESULTS}/{name}" for name in names}
            job = job | {"path": f"{sandbox.SUBMISSION}/{path.name}"}
            uid = [str(sandbox.child_uid())] if os.geteuid() == 0 else []
            command = [*launch, results["result.npz"], results["progress"], str(memory), cpu, *uid]
            copy = work / "submission"  # readable by any uid, whatever the original's mode
            shutil.copyfile(path, copy)
            copy.chmod(0o644)
            command, cwd = sandbox.wrap(command, copy, path.name, names), work
        else:
            command, cwd = [*launch, str(result), str(progress), str(memory), cpu], work / "cwd"
        env = _CHILD_ENV | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # the project's root
        # stderr: a file of ours, not a pipe (a flood cannot fill our memory), read through our own descriptor
        with tempfile.TemporaryFile() as stderr:
            child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
            with _LIVE_LOCK:
                _LIVE.add(child)
            try:
                # written by a thread: a child that never reads it cannot block us past the timeout
                threading.Thread(target=_send, args=(child, pickle.dumps(job)), daemon=True).start()
                returncode = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(child)
                child.wait()
                where = _progress_of(progress)
                raise InputError(
                    f"{path}: {func} did not finish within {timeout:g} s, stopped at init {where}; an endless loop?"
                ) from None
            finally:
                _kill_group(child)
                if uid_alone:
                    _kill_uid(own)
                with _LIVE_LOCK:
                    _LIVE.discard(child)
            lines = _tail(stderr)
        if sandboxed is True:
            returncode = sandbox.exit_status(returncode)
        if returncode != 0:
            if any("MemoryError" in line for line in lines[-3:]):
                raise InputError(f"{path}: {func} ran out of memory: the limit is {memory} MiB (--memory)")
            if returncode in _SIGNALS:
                raise InputError(f"{path}: running it {_SIGNALS[returncode]} (exit status {returncode})")
            last = worker.one_line((lines or ["no message"])[-1])
            raise InputError(f"{path}: running it ended the process (exit status {returncode}): {last}")
        outcome = _read_result(path, result, job)
        if uid_alone and protocol.ERROR in outcome:  # the copy's path, as the learner named the file
            outcome[protocol.ERROR] = outcome[protocol.ERROR].replace(job["path"], str(path))
        return outcome


def _kill_uid(uid: int) -> None:
    """Every process of the child's own uid: one that left its process group (setsid, a double
    fork) dies too. ``kill -9 -1`` run as that uid signals all it may, its uid's, itself included."""
    kill = shutil.which("kill", path=os.defpath) or "/bin/kill"
    subprocess.run([kill, "-9", "-1"], user=uid, group=uid, extra_groups=[], env=_CHILD_ENV, check=False, timeout=30)


def _send(child: subprocess.Popen[bytes], job: bytes) -> None:
    """The job, on the child's stdin; a child that dies first is judged by its exit status."""
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(job)
    with contextlib.suppress(BrokenPipeError):
        child.stdin.close()


def _progress_of(progress: Path) -> str:
    try:
        fd = _open_own(progress)
    except OSError:
        return "an unknown step"
    with os.fdopen(fd, "rb") as handle:
        return worker.one_line(handle.read(200).decode(errors="replace").strip()) or "while importing it"


def _read_result(path: Path, result: Path, job: dict[str, Any]) -> dict[str, Any]:
    """The child's arrays: the archive's members checked (names, stored uncompressed, sizes)
    before anything is read, then shapes and dtypes; anything else is an error."""

    def refuse(why: str) -> InputError:
        return InputError(f"{path}: its process sent back something other than the audit's results ({why})")

    expected, dtype = protocol.result_shapes(job)
    probed = protocol.probe_shapes(job)
    extras = (
        {protocol.HYPER, protocol.SOURCE, protocol.LABEL, protocol.CHANGED} if protocol.is_optimizer(job) else set()
    )
    try:
        fd = _open_own(result)
    except OSError as error:
        raise refuse(str(error) if "plain file" in str(error) else "no result") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                members = {info.filename: info for info in archive.infolist()}
                names = {name.removesuffix(".npy") for name in members}
                text = 64 * 1024
                if names == {protocol.ERROR}:
                    limits = {protocol.ERROR: text}
                elif (probed and names == set(probed)) or names - {protocol.SHAPE} == set(expected) | set(
                    probed
                ) | extras:
                    limits = {name: int(np.prod(shape)) * dtype.itemsize + 1024 for name, shape in expected.items()}
                    limits[protocol.PROBE_LOSSES] = 8 * int(np.prod(probed.get(protocol.PROBE_LOSSES, 0))) + 1024
                    limits[protocol.SHAPE] = 1024
                    limits |= dict.fromkeys(extras, 1024)
                    if protocol.CHANGED in extras:
                        tensors = 2 * (len(job["sizes"]) - 1)
                        limits[protocol.CHANGED] = 8 * len(job["runs"]) * tensors * protocol.CHANGED_WIDTH + 1024
                else:
                    raise refuse(f"arrays {sorted(names)[:4]}")
                for info in members.values():
                    if info.compress_type != zipfile.ZIP_STORED or info.file_size > limits[info.filename[:-4]]:
                        raise refuse(f"{info.filename} compressed or too large")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except InputError:
            raise
        except Exception as error:  # not an .npz, truncated, or arrays that would need pickle
            raise refuse(type(error).__name__) from None
    if set(arrays) == {protocol.ERROR}:
        message = arrays[protocol.ERROR]
        if message.dtype.kind != "U" or message.shape != ():
            raise refuse("an error that is not text")
        return {protocol.ERROR: worker.one_line(str(message[()]))[:2000]}
    outcome: dict[str, Any] = {}
    for name, shape in probed.items():
        if arrays[name].shape != shape or arrays[name].dtype != np.float64:
            raise refuse(f"{name}: shape {arrays[name].shape}, dtype {arrays[name].dtype}")
        outcome[name] = arrays[name]
    if protocol.SHAPE in arrays:
        shape_text = arrays[protocol.SHAPE]
        # only the tutorial contract's forward pass has a y_hat, and a shape is a tuple of sizes
        if job.get("contract") != "tutorial" or shape_text.dtype.kind != "U" or shape_text.shape != ():
            raise refuse(f"{protocol.SHAPE} where none is due")
        if not re.fullmatch(r"\(\d{1,9}(, \d{1,9})*,?\)", str(shape_text[()])):
            raise refuse(f"{protocol.SHAPE} that is not a shape")
        outcome[protocol.SHAPE] = str(shape_text[()])
    if extras:
        outcome |= _optimizer_extras(arrays, refuse, job)
    if not set(expected) <= set(arrays):
        return outcome  # the probe alone: no group of definitions is the problem's
    outcome |= {part: {} for part in protocol.parts_of(job)}
    for name, shape in expected.items():
        part, init, what = name.split(".")
        if arrays[name].shape != shape or arrays[name].dtype != dtype:
            raise refuse(f"{name}: shape {arrays[name].shape}, dtype {arrays[name].dtype}")
        outcome[part].setdefault(init, {})[what] = arrays[name]
    return outcome


def _optimizer_extras(arrays: dict[str, np.ndarray], refuse: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters the learner's optimizer ran with, where each came from, its name, and
    the shapes its updates changed."""
    hyper, source, label = arrays[protocol.HYPER], arrays[protocol.SOURCE], arrays[protocol.LABEL]
    changed = arrays[protocol.CHANGED]
    tensors = 2 * (len(job["sizes"]) - 1)
    steps = min(protocol.steps_of(context) for context in job["runs"].values())
    if (
        changed.shape != (len(job["runs"]), tensors, protocol.CHANGED_WIDTH)
        or changed.dtype != np.int64
        or not ((changed[..., 0] >= -1) & (changed[..., 0] < steps)).all()
        or not np.isin(changed[..., 1], (-1, 0, 1)).all()
        or not ((changed[..., 2:] >= -1) & (changed[..., 2:] < 2**31)).all()
    ):
        raise refuse(f"{protocol.CHANGED} that is not a record of shapes")
    n = len(protocol.HYPER_NAMES)
    if hyper.shape != (n,) or hyper.dtype != np.float64 or np.isinf(hyper).any():  # NaN: none declared
        raise refuse(f"{protocol.HYPER}: shape {hyper.shape}, dtype {hyper.dtype}, or not finite")
    if source.shape != (n,) or source.dtype != np.int64 or not ((source >= 0) & (source < len(protocol.SOURCES))).all():
        raise refuse(f"{protocol.SOURCE} that is not a source")
    if (
        label.dtype.kind != "U"
        or label.shape != ()
        or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,99}", str(label[()]))
    ):
        raise refuse(f"{protocol.LABEL} that is not a name")
    return {protocol.HYPER: hyper, protocol.SOURCE: source, protocol.LABEL: str(label[()]), protocol.CHANGED: changed}
