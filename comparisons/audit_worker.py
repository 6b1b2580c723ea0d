"""Runs a user's step function in a process of its own: ``python -m comparisons.audit_worker JOB RESULT PROGRESS MIB``.

JOB is a pickle written by comparisons.audit: the file and function, the
network's layer sizes, and per init the initial parameters, rows, order and
learning rate, and Keras's state before every step. RESULT receives a pickle
with, per init, two passes of the user's step:

- ``runs``: free-running, from the initial parameters, the parameters after
  every step (in document order) and every row's loss;
- ``forced``: teacher-forced, each step taken from Keras's state before it,
  so each step is judged on its own.

Or one line naming what is wrong with the user's code. PROGRESS holds the init,
epoch and step being run, so a parent that has to stop a hung step can say
where. The address space is limited to MIB mebibytes. TensorFlow is never
imported here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import pickle
import resource
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from manual.network import Architecture, Params, in_document_order
from manual.training import steps

__all__ = ["UserCodeError", "checked", "load", "main", "run"]


class UserCodeError(Exception):
    """What is wrong with the user's code, in one line."""


_MEMORY_MIB: int | None = None  # the limit this process runs under, to name it in messages


def _failure(error: BaseException) -> str:
    if isinstance(error, MemoryError) and _MEMORY_MIB is not None:
        return f"ran out of memory: the limit is {_MEMORY_MIB} MiB (--memory)"
    return f"raised {type(error).__name__}: {error}"


def load(path: str, func: str, module_name: str = "user_step") -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise UserCodeError(f"{path}: importing it {_failure(error)}{_where(error, path)}") from None
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


def _as_shape(key: str, array: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """The array in Keras's layout. A bias may come as a column (n, 1) or a row (1, n), and a
    one-element bias as a scalar: the numbers can only mean one thing. Weights must have
    their exact shape: a transposed W1 has the same shape, so a layout cannot be guessed."""
    if array.shape == shape:
        return array
    if key.startswith("b") and array.size == shape[0] and sum(n != 1 for n in array.shape) <= 1:
        return array.reshape(shape)
    expected = f"{shape}, or {(shape[0], 1)} or {(1, shape[0])}" if key.startswith("b") else f"{shape}"
    raise UserCodeError(f"returned {key} has shape {array.shape}, must be {expected} {where}")


def _checked_params(value: object, shapes: dict[str, tuple[int, ...]], dtype: str, where: str) -> Params:
    if not isinstance(value, Mapping):
        raise UserCodeError(f"returned params is a {type(value).__name__}, not a dict {where}")
    missing = [k for k in shapes if k not in value]
    if missing:
        raise UserCodeError(f"returned params lack {', '.join(map(repr, missing))} {where}")
    extra = sorted(str(k) for k in value if k not in shapes)
    if extra:
        raise UserCodeError(f"returned params have extra keys {', '.join(map(repr, extra))} {where}")
    params: Params = {}
    for key, shape in shapes.items():
        try:
            array = np.asarray(value[key])
        except Exception:
            raise UserCodeError(f"returned {key} is not an array {where}") from None
        if array.dtype.kind not in "fiu":
            raise UserCodeError(f"returned {key} holds {array.dtype} values, not numbers {where}")
        params[key] = _as_shape(key, array, shape, where).astype(dtype)
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
    fn: Callable[..., Any],
    path: str,
    func: str,
    arch: Architecture,
    rows_per_epoch: int,
    dtype: str,
    progress: Callable[[str], None],
) -> Callable[..., tuple[Params, np.floating]]:
    """The user's step, made to say what is wrong with what it returns, and where."""
    shapes = dict(arch.shapes())
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
            raise UserCodeError(f"{func} {_failure(error)} {where}{_where(error, path)}") from None
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{func} must return (params, loss), returned {type(out).__name__} {where}")
        return _checked_params(out[0], shapes, dtype, where), _checked_loss(out[1], dtype, where)

    return step


def _free(
    step: Callable[..., tuple[Params, np.floating]], arch: Architecture, context: dict[str, Any]
) -> dict[str, Any]:
    X, y, order = context["X"], context["y"], context["order"]
    params, losses = [], []
    for record in steps(step, context["params"], X, y, order, context["lr"]):
        params.append(in_document_order(arch, record.params))
        losses.append(record.loss)
    return {"params": np.array(params, dtype=X.dtype), "losses": np.array(losses, dtype=X.dtype)}


def _forced(
    step: Callable[..., tuple[Params, np.floating]], arch: Architecture, context: dict[str, Any]
) -> dict[str, Any]:
    """Each step from Keras's state before it: ``states[key][k]`` with row ``order.reshape(-1)[k]``."""
    X, y, states = context["X"], context["y"], context["states"]
    eta = X.dtype.type(context["lr"])
    params, losses = [], []
    for k, i in enumerate(context["order"].reshape(-1)):
        new, loss = step({key: np.array(s[k], copy=True) for key, s in states.items()}, X[i].copy(), y[i], eta)
        params.append(in_document_order(arch, new))
        losses.append(loss)
    return {"params": np.array(params, dtype=X.dtype), "losses": np.array(losses, dtype=X.dtype)}


def run(job: dict[str, Any], progress_path: str | None = None, module_name: str = "user_step") -> dict[str, Any]:
    fd = None if progress_path is None else os.open(progress_path, os.O_WRONLY | os.O_CREAT)
    stack = contextlib.ExitStack()
    arch = Architecture(tuple(job["sizes"]), ("linear",) * (len(job["sizes"]) - 1), "mean_squared_error")

    def progress_in(init: str, what: str = "") -> Callable[[str], None]:
        def write(where: str) -> None:
            if fd is not None:
                os.pwrite(fd, f"{init} {what}{where}".ljust(100).encode(), 0)

        return write

    def user_step(init: str, context: dict[str, Any], what: str = "") -> Callable[..., tuple[Params, np.floating]]:
        rows = context["order"].shape[1]
        return checked(fn, job["path"], job["func"], arch, rows, str(context["X"].dtype), progress_in(init, what))

    try:
        fn = load(job["path"], job["func"], module_name)
        # the user's overflows are the audit's findings, not warnings on the terminal
        stack.enter_context(np.errstate(all="ignore"))
        runs = {init: _free(user_step(init, context), arch, context) for init, context in job["runs"].items()}
        forced = {
            init: _forced(user_step(init, context, "from Keras's state "), arch, context)
            for init, context in job["runs"].items()
        }
        return {"runs": runs, "forced": forced}
    except UserCodeError as error:
        return {"error": str(error)}
    finally:
        stack.close()
        if fd is not None:
            os.close(fd)


def main() -> None:
    global _MEMORY_MIB
    job_path, result_path, progress_path, memory = sys.argv[1:5]
    _MEMORY_MIB = int(memory)
    limit = _MEMORY_MIB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open(job_path, "rb") as handle:
        job = pickle.load(handle)
    result = run(job, progress_path)
    with open(result_path, "wb") as handle:
        pickle.dump(result, handle)


if __name__ == "__main__":
    main()
