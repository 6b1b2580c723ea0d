"""Where Keras's side runs: here, or in a child process whose TensorFlow has oneDNN off.

``run(job, **arguments)`` runs one job of reference/jobs.py under the
configuration ``numerics.key()`` names. In this process when its TensorFlow
runs (or, not imported yet, will run) with oneDNN off; otherwise in one child
process (reference/child.py), started at the first such job and kept until this
process ends, so TensorFlow is imported there once. Either way the
configuration is read back when the job ends, and a job that ran under another
is refused: a result is never filed under a configuration it was not computed in.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np

from reference import numerics, protocol

__all__ = ["NOTICE", "in_child", "prepare", "run", "stop_child"]

_LOCK = threading.Lock()  # one job at a time: the compiled models are shared, and so is the child
_child: dict[str, Any] = {}
NOTICE = (
    "backprop-vs-keras: oneDNN is on for TensorFlow in this process (TF_ENABLE_ONEDNN_OPTS, or this CPU's "
    "default), which fuses float32 multiply-adds; Keras's side is computed in a child process with it off"
)


def in_child() -> bool:
    """Whether this process's jobs go to the child: its TensorFlow has oneDNN on."""
    return numerics.onednn_here()


def run(job: str, **arguments: Any) -> dict[str, np.ndarray]:
    expected = numerics.key()
    with _LOCK:
        arrays, state = _execute(job, arguments)
    if state != expected:  # a fault of ours, never the user's: an internal error
        raise RuntimeError(
            f"Keras's {job} ran with {numerics.describe(state)}, not {numerics.describe(expected)}: result discarded"
        )
    return arrays


def _execute(job: str, arguments: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The job's arrays, and the configuration read back where it ran. Here when TensorFlow runs
    with oneDNN off; its import is the last chance to find it on (a setting TensorFlow reads another
    way than predicted), and then the job goes to the child after all."""
    if not in_child():
        from reference import jobs  # imports tensorflow, configured first by reference/keras_model.py

        if not numerics.onednn_in_tensorflow():
            return jobs.run(job, arguments)
    return _ask_child(job, arguments)


def _start_child() -> subprocess.Popen[bytes]:
    """A new child for this process's device: a CPU child sees no GPU, so it never reserves GPU
    memory beside a notebook's own TensorFlow."""
    stop_child()
    if not _child.get("noticed"):
        print(NOTICE, file=sys.stderr)
        _child["noticed"] = True
    stderr = tempfile.TemporaryFile()  # noqa: SIM115  # lives as long as the child, closed by stop_child
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = os.environ | {numerics.ONEDNN_VARIABLE: "0", "KERAS_BACKEND": "tensorflow", "PYTHONPATH": path}
    if numerics.device() == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    child = subprocess.Popen(
        [sys.executable, "-m", "reference.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
    )
    _child.update(process=child, stderr=stderr, device=numerics.device())
    try:
        if _receive(child) != ({"ready": True}, {}):
            raise RuntimeError("Keras's child process did not start properly")
    except BaseException:
        stop_child()
        raise
    return child


def _receive(child: subprocess.Popen[bytes]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    assert child.stdout is not None
    try:
        body = protocol.read_message(child.stdout)
    except EOFError:
        body = None
    if body is None:
        child.wait()
        raise RuntimeError(f"Keras's child process ended (exit {child.returncode}){_stderr_tail()}")
    return protocol.decode(body)


def prepare() -> None:
    """Import TensorFlow where jobs will run, here or in the child (before a benchmark's clocks start)."""
    with _LOCK:
        if not in_child():
            from reference import jobs  # noqa: F401
        elif not _child_ready():
            _start_child()


def _child_ready() -> bool:
    """A child runs, for this process's device."""
    child = _child.get("process")
    return child is not None and child.poll() is None and _child.get("device") == numerics.device()


def _ask_child(job: str, arguments: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    child = _child["process"] if _child_ready() else _start_child()
    assert child.stdin is not None
    request = {"job": job, "device": numerics.device(), "arguments": arguments}
    try:
        with contextlib.suppress(BrokenPipeError):  # it ended: _receive says how
            protocol.write_message(child.stdin, protocol.encode(request))
        header, arrays = _receive(child)
    except BaseException:  # interrupted mid-job: its late reply must never answer the next request
        stop_child()
        raise
    if "error" in header:
        if header["kind"] == "NumericsError":
            raise numerics.NumericsError(header["error"])
        raise RuntimeError(f"{header['kind']}: {header['error']}")
    return arrays, header["state"]


def _stderr_tail(limit: int = 4096) -> str:
    """The last line the child wrote to stderr (it holds everything the child ever wrote)."""
    stream: IO[bytes] = _child["stderr"]
    stream.seek(0, os.SEEK_END)
    stream.seek(max(0, stream.tell() - limit))
    lines = stream.read().decode(errors="replace").strip().splitlines()
    return f": {lines[-1]}" if lines else ""


def stop_child() -> None:
    """End the child, if one runs (at exit; tests)."""
    child = _child.pop("process", None)
    if child is not None and child.poll() is None:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    stderr = _child.pop("stderr", None)
    if stderr is not None:
        stderr.close()


atexit.register(stop_child)
