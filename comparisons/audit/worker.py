"""Runs a user's code in a process of its own: ``python -m comparisons.audit.worker RESULT PROGRESS MIB CPU [UID]``.

The job comes on stdin, a pickle written by the parent (read, and stdin closed,
before any user code runs); RESULT receives plain numpy arrays. Both are
declared in comparisons/audit/protocol.py. Per init, two passes of the user's step:

- ``runs``: free-running, from the initial parameters, the parameters after
  every step (in document order) and every row's loss;
- ``forced``: teacher-forced, each step taken from Keras's state before it,
  so each step is judged on its own.

Or one line naming what is wrong with the user's code. PROGRESS holds the init,
epoch and step being run, so a parent that has to stop a hung step can say
where. Before the user's code runs, the process limits itself: MIB mebibytes of
address space, CPU seconds, file size, open files and processes, and (given a
UID: a root grader's sandboxed child) becomes that user. TensorFlow is never
imported here.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import importlib.util
import inspect
import os
import pickle
import sys
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from comparisons.audit import protocol
from comparisons.audit.limits import FILE_SIZE_MIB, drop_to, limit_resources
from comparisons.audit.returns import UserCodeError, checked_loss, checked_params
from comparisons.notebook import NotebookError, cell_filename, read_notebook
from manual.batch.training import batch_rows
from manual.network import Architecture, Params, copy_params, in_document_order
from manual.row.losses import LOSSES

__all__ = [
    "UserCodeError",
    "checked",
    "load",
    "main",
    "one_line",
    "run",
    "step_function",
    "write_result",
]


_MEMORY_MIB: int | None = None  # the limit this process runs under, to name it in messages
_SKIPPED_NAMES: dict[str, tuple[int, int]] = {}  # a notebook's names bound only by statements not run


def _failure(error: BaseException) -> str:
    if isinstance(error, MemoryError) and _MEMORY_MIB is not None:
        return f"ran out of memory: the limit is {_MEMORY_MIB} MiB (--memory)"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:  # Python ignores SIGXFSZ: the write fails
        return f"wrote a file over the limit of {FILE_SIZE_MIB} MiB"
    if isinstance(error, NameError) and error.name in _SKIPPED_NAMES:
        cell, line = _SKIPPED_NAMES[error.name]
        return (
            f"raised NameError: {error} (it is set only in cell {cell}, line {line}, "
            "by a statement the audit does not run)"
        )
    return f"raised {type(error).__name__}: {one_line(str(error))[:500]}"


def one_line(text: str) -> str:
    """Text from the user's code as one printable line (newlines and escape codes become spaces)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


class _RaisedError(Exception):
    """An exception from one of the user's functions, with that function's name."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(name)
        self.name, self.error = name, error


def _module(path: str, module_name: str) -> types.ModuleType:
    """The user's file as a module: a .py file imported whole, a notebook's definitions only."""
    if not path.endswith(".ipynb"):
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise UserCodeError(f"{path}: cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise UserCodeError(f"{path}: importing it {_failure(error)}{_where(error, path)}") from None
        return module
    try:
        code = read_notebook(Path(path))
    except NotebookError as error:
        raise UserCodeError(f"{path}: {error}") from None
    _SKIPPED_NAMES.update(code.skipped_names)
    module = types.ModuleType(module_name)
    module.__file__ = path
    for cell, statement in code.kept:
        compiled = compile(ast.Module([statement], []), cell_filename(path, cell), "exec")
        try:
            exec(compiled, module.__dict__)  # the notebook reader kept only imports that are used
        except Exception as error:
            raise UserCodeError(f"{path}: running its definitions {_failure(error)}{_where(error, path)}") from None
    return module


def _function(module: types.ModuleType, path: str, name: str) -> Callable[..., Any]:
    if not hasattr(module, name) and name in _SKIPPED_NAMES:
        cell, line = _SKIPPED_NAMES[name]
        raise UserCodeError(
            f"{path}: {name!r} is defined only in cell {cell}, line {line}, by a statement the audit does not run "
            "(making it would run code: a default, decorator or annotation that is not a plain name or literal)"
        )
    if not hasattr(module, name):
        raise UserCodeError(f"{path}: defines no function {name!r}")
    fn = getattr(module, name)
    if not callable(fn):
        raise UserCodeError(f"{path}: {name!r} is a {type(fn).__name__}, not a function")
    return cast(Callable[..., Any], fn)


def _accepts(fn: Callable[..., Any], count: int) -> bool:
    try:
        inspect.signature(fn).bind(*[None] * count)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): let the call decide
        return True
    return True


def _signature(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def load(path: str, func: str, module_name: str = "user_step") -> Callable[..., Any]:
    """The step contract: ``func(params, x, y, lr) -> (params, loss)``."""
    fn = _function(_module(path, module_name), path, func)
    if not _accepts(fn, 4):
        raise UserCodeError(f"{path}: {func}{_signature(fn)} cannot be called as {func}(params, x, y, lr)")
    return fn


def _columns(params: Params) -> Params:
    return {key: value.reshape(-1, 1) if key.startswith("b") else value for key, value in params.items()}


def step_function(job: dict[str, Any], module_name: str = "user_step") -> Callable[..., Any]:
    """The user's code as a ``step(params, x, y, lr) -> (params, loss)`` in Keras's layout.

    ``contract``: ``step`` (the user's own step, in the ``layout`` keras or columns) or
    ``tutorial`` (the notebooks' ``forward(X, parameters) -> (y_hat, A1)`` and
    ``update(parameters, y, y_hat, A1, X[, lr])``, which changes ``parameters`` in place,
    in the column layout; the row's loss comes from y_hat by the network's loss)."""
    path = job["path"]
    given = job.get("functions")  # the API's: the user's own function objects, in this process
    if job.get("contract", "step") == "step":
        fn = load(path, job["func"], module_name) if given is None else given[job["func"]]
        if job.get("layout", "keras") == "keras":
            return fn
        return lambda params, x, y, lr: fn(_columns(params), x.reshape(-1, 1), y, lr)
    forward_name, update_name = job["forward"], job["update"]
    if given is None:
        module = _module(path, module_name)
        forward, update = _function(module, path, forward_name), _function(module, path, update_name)
    else:
        forward, update = given[forward_name], given[update_name]
    wanted = (
        f"the tutorial contract needs {forward_name}(X, parameters) -> (y_hat, A1) and "
        f"{update_name}(parameters, y, y_hat, A1, X[, lr])"
    )
    if not _accepts(forward, 2):
        raise UserCodeError(f"{path}: {wanted}; found {forward_name}{_signature(forward)}")
    takes_lr = _accepts(update, 6)
    if not takes_lr and not _accepts(update, 5):
        raise UserCodeError(f"{path}: {wanted}; found {update_name}{_signature(update)}")
    loss = LOSSES[job["loss"]]

    def call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as error:
            raise _RaisedError(name, error) from error

    def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[Params, Any]:
        parameters = _columns(params)
        X = x.reshape(-1, 1)
        out = call(forward_name, forward, X, parameters)
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{forward_name} must return (y_hat, A1), returned {type(out).__name__}")
        y_hat = np.asarray(out[0])
        if y_hat.size != 1:
            raise UserCodeError(f"{forward_name} returned y_hat of shape {y_hat.shape}, must be (1, 1)")
        y_hat_value = y_hat.reshape(-1)[0]  # the notebooks hand the update y_hat[0][0]
        call(update_name, update, parameters, y, y_hat_value, out[1], X, *([lr] if takes_lr else []))
        return parameters, loss(y, y_hat_value)

    return step


def _where(error: BaseException, path: str) -> str:
    """`` (file.py line 12)`` or `` (notebook.ipynb cell 3, line 12)``: the last line of the
    user's file in the traceback, if any."""
    target = str(Path(path).resolve())
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename == target:
            return f" ({Path(path).name} line {frame.lineno})"
        if frame.filename.startswith(target + " [cell "):
            cell = frame.filename[len(target) + len(" [cell ") : -1]
            return f" ({Path(path).name} cell {cell}, line {frame.lineno})"
    return ""


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
        except UserCodeError as error:
            raise UserCodeError(f"{error} {where}") from None
        except _RaisedError as raised:
            failure = f"{_failure(raised.error)} {where}{_where(raised.error, path)}"
            raise UserCodeError(f"{raised.name} {failure}") from None
        except Exception as error:
            raise UserCodeError(f"{func} {_failure(error)} {where}{_where(error, path)}") from None
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{func} must return (params, loss), returned {type(out).__name__} {where}")
        return checked_params(out[0], shapes, dtype, where), checked_loss(out[1], dtype, where)

    return step


def _inputs(context: dict[str, Any], rows: np.ndarray) -> tuple[np.ndarray, Any]:
    """A step's x and y: one row (x of shape (n_in,)) at batch size 1, else the batch (B, n_in)."""
    X, y = context["X"], context["y"]
    if context.get("batch", 1) == 1:
        return X[rows[0]].copy(), (y[rows[0]].copy() if y.ndim > 1 else y[rows[0]])
    return X[rows].copy(), y[rows].copy()


def _free(
    step: Callable[..., tuple[Params, np.floating]], arch: Architecture, context: dict[str, Any]
) -> dict[str, Any]:
    X = context["X"]
    eta = X.dtype.type(context["lr"])
    current = copy_params(context["params"])
    params, losses = [], []
    for rows in batch_rows(context["order"], context.get("batch", 1)):
        current, loss = step(copy_params(current), *_inputs(context, rows), eta)
        params.append(in_document_order(arch, current))
        losses.append(loss)
    return {"params": np.array(params, dtype=X.dtype), "losses": np.array(losses, dtype=X.dtype)}


def _forced(
    step: Callable[..., tuple[Params, np.floating]], arch: Architecture, context: dict[str, Any]
) -> dict[str, Any]:
    """Each step from Keras's state before it: ``states[key][k]`` with the k-th batch's rows."""
    X, states = context["X"], context["states"]
    eta = X.dtype.type(context["lr"])
    params, losses = [], []
    for k, rows in enumerate(batch_rows(context["order"], context.get("batch", 1))):
        new, loss = step({key: np.array(s[k], copy=True) for key, s in states.items()}, *_inputs(context, rows), eta)
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
        rows = len(batch_rows(context["order"][:1], context.get("batch", 1)))  # steps per epoch
        label = job["func"] if job.get("contract", "step") == "step" else f"{job['forward']}/{job['update']}"
        return checked(fn, job["path"], label, arch, rows, str(context["X"].dtype), progress_in(init, what))

    try:
        fn = step_function(job, module_name)
        # the user's overflows are the audit's findings, not warnings on the terminal
        stack.enter_context(np.errstate(all="ignore"))
        runs = {init: _free(user_step(init, context), arch, context) for init, context in job["runs"].items()}
        forced = {
            init: _forced(user_step(init, context, "from Keras's state "), arch, context)
            for init, context in job["runs"].items()
        }
        return {"runs": runs, "forced": forced}
    except UserCodeError as error:
        return {protocol.ERROR: str(error)}
    finally:
        stack.close()
        if fd is not None:
            os.close(fd)


def write_result(path: str, result: dict[str, Any]) -> None:
    """Plain arrays, no pickle, named as comparisons.audit.protocol declares them."""
    if protocol.ERROR in result:
        arrays = {protocol.ERROR: np.array(str(result[protocol.ERROR]))}
    else:
        arrays = {
            protocol.result_name(part, init, what): np.asarray(values)
            for part in protocol.PARTS
            for init, outcome in result[part].items()
            for what, values in outcome.items()
        }
    with open(path, "wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def main() -> None:
    global _MEMORY_MIB
    result_path, progress_path, memory, cpu_seconds, *user = sys.argv[1:]
    job = pickle.load(sys.stdin.buffer)  # written by the parent, before any user code ran
    # stdin closed for the user's code: Keras's states came through it and cannot be read again
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _MEMORY_MIB = int(memory)
    limit_resources(_MEMORY_MIB, int(cpu_seconds))
    if user:
        drop_to(int(user[0]))
    write_result(result_path, run(job, progress_path))


if __name__ == "__main__":
    main()
