"""Runs a user's step function in a process of its own: ``python -m comparisons.audit_worker JOB RESULT PROGRESS``.

JOB is a pickle written by comparisons.audit (path, function name, and per init:
initial parameters, rows, order, learning rate). RESULT receives a pickle: per
init, the parameters after every step (in document order) and every row's
loss; or one line naming what is wrong with the user's code. PROGRESS holds
the init, epoch and step being run, so a parent that has to stop a hung step
can say where. TensorFlow is never imported here.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from manual.network import Architecture, Params, in_document_order
from manual.training import steps

SHAPES = {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
_ARCH = Architecture(
    (2, 2, 1), ("linear", "linear"), "mean_squared_error"
)  # the shapes; names do not depend on activations


class UserCodeError(Exception):
    """What is wrong with the user's code, in one line."""


def load(path: str, func: str) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location("user_step", path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise UserCodeError(
            f"{path}: importing it raised {type(error).__name__}: {error}{_where(error, path)}"
        ) from None
    if not hasattr(module, func):
        raise UserCodeError(f"{path}: defines no function {func!r}")
    fn = getattr(module, func)
    if not callable(fn):
        raise UserCodeError(f"{path}: {func!r} is a {type(fn).__name__}, not a function")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (a builtin): let the call decide
        return fn
    try:
        signature.bind(None, None, None, None)
    except TypeError:
        raise UserCodeError(f"{path}: {func}{signature} cannot be called as {func}(params, x, y, lr)") from None
    return fn


def _where(error: BaseException, path: str) -> str:
    """`` (file.py line 12)``: the last line of the user's file in the traceback, if any."""
    target = str(Path(path).resolve())
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == target]
    return f" ({Path(path).name} line {frames[-1].lineno})" if frames else ""


def _checked_params(value: object, dtype: str, where: str) -> Params:
    if not isinstance(value, Mapping):
        raise UserCodeError(f"returned params is a {type(value).__name__}, not a dict {where}")
    missing = [k for k in SHAPES if k not in value]
    if missing:
        raise UserCodeError(f"returned params lack {', '.join(map(repr, missing))} {where}")
    extra = sorted(str(k) for k in value if k not in SHAPES)
    if extra:
        raise UserCodeError(f"returned params have extra keys {', '.join(map(repr, extra))} {where}")
    params: Params = {}
    for key, shape in SHAPES.items():
        try:
            array = np.asarray(value[key])
        except Exception:
            raise UserCodeError(f"returned {key} is not an array {where}") from None
        if array.dtype.kind not in "fiu":
            raise UserCodeError(f"returned {key} holds {array.dtype} values, not numbers {where}")
        if array.shape != shape:
            raise UserCodeError(f"returned {key} has shape {array.shape}, must be {shape} {where}")
        params[key] = array.astype(dtype)
    return params


def _checked_loss(value: object, dtype: str, where: str) -> np.floating:
    try:
        array = np.asarray(value)
    except Exception:
        array = np.asarray(None)
    if array.dtype.kind not in "fiu" or array.size != 1:
        raise UserCodeError(f"returned loss {value!r} is not a number {where}")
    return np.dtype(dtype).type(array.reshape(-1)[0])


def checked(
    fn: Callable[..., Any], path: str, func: str, rows_per_epoch: int, dtype: str, progress: Callable[[str], None]
) -> Callable[..., tuple[Params, np.floating]]:
    """The user's step, made to say what is wrong with what it returns, and where."""
    calls = 0

    def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, np.floating]:
        nonlocal calls
        epoch, position = divmod(calls, rows_per_epoch)
        where = f"(epoch {epoch + 1}, step {position + 1})"
        calls += 1
        progress(where)
        try:
            out = fn(params, x, y, lr)
        except Exception as error:
            raise UserCodeError(f"{func} raised {type(error).__name__}: {error} {where}{_where(error, path)}") from None
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{func} must return (params, loss), returned {type(out).__name__} {where}")
        return _checked_params(out[0], dtype, where), _checked_loss(out[1], dtype, where)

    return step


def run(job: dict[str, Any], progress_path: str) -> dict[str, Any]:
    fd = os.open(progress_path, os.O_WRONLY | os.O_CREAT)

    def progress_in(init: str) -> Callable[[str], None]:
        def write(where: str) -> None:
            os.pwrite(fd, f"{init} {where}".ljust(80).encode(), 0)

        return write

    try:
        fn = load(job["path"], job["func"])
        runs = {}
        for init, context in job["runs"].items():
            X, y, order = context["X"], context["y"], context["order"]
            step = checked(fn, job["path"], job["func"], order.shape[1], str(X.dtype), progress_in(init))
            params, losses = [], []
            for record in steps(step, context["params"], X, y, order, context["lr"]):
                params.append(in_document_order(_ARCH, record.params))
                losses.append(record.loss)
            runs[init] = {"params": np.array(params, dtype=X.dtype), "losses": np.array(losses, dtype=X.dtype)}
        return {"runs": runs}
    except UserCodeError as error:
        return {"error": str(error)}
    finally:
        os.close(fd)


def main() -> None:
    job_path, result_path, progress_path = sys.argv[1:4]
    with open(job_path, "rb") as handle:
        job = pickle.load(handle)
    result = run(job, progress_path)
    with open(result_path, "wb") as handle:
        pickle.dump(result, handle)


if __name__ == "__main__":
    main()
