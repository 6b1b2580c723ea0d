"""The learner's code, made into a step: loaded from its file or a notebook's cells, called by
its contract in its layout, and made to say in one line what is wrong with it and where.

Runs in the audit's child (comparisons.audit.worker), beside the learner's code: the standard
library, numpy, manual/ and the audit's plain modules only.
"""

from __future__ import annotations

import ast
import errno
import inspect
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from comparisons.audit.layouts import from_layout, input_in, to_layout
from comparisons.audit.limits import FILE_SIZE_MIB
from comparisons.audit.returns import UserCodeError, checked_loss, checked_params
from comparisons.notebook import NotebookError, cell_filename, definitions
from manual.network import Architecture, Params
from manual.row.losses import LOSSES

__all__ = [
    "IMPORTED",
    "MEMORY_MIB",
    "SHAPES",
    "UserCodeError",
    "checked",
    "failure",
    "load",
    "one_line",
    "signature_of",
    "step_function",
    "user_function",
    "user_module",
    "where_in",
]


MEMORY_MIB: int | None = None  # the limit this process runs under, to name it in messages
_SKIPPED_NAMES: dict[str, tuple[int, int]] = {}  # a notebook's names bound only by statements not run
SHAPES: dict[str, tuple[int, ...]] = {}  # a forward pass's y_hat, where it held more than one value
IMPORTED: dict[str, types.ModuleType | UserCodeError] = {}  # a .py file's module, or why it failed, this run


def failure(error: BaseException) -> str:
    if isinstance(error, MemoryError) and MEMORY_MIB is not None:
        return f"ran out of memory: the limit is {MEMORY_MIB} MiB (--memory)"
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


def _imported(path: str, module_name: str) -> types.ModuleType:
    """The file's module, compiled from its source as it is now. Not through importlib's loader: it
    reuses __pycache__'s bytecode wherever the source's size and whole-second mtime are unchanged,
    so a step edited to the same length within a second ran as it was (and it wrote __pycache__
    into the learner's folder)."""
    module = types.ModuleType(module_name)
    module.__file__ = path
    try:
        with open(path, "rb") as file:
            code = compile(file.read(), path, "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError) as error:
        raise UserCodeError(f"{path}: cannot be loaded as a Python module ({one_line(str(error))})") from None
    except (RecursionError, MemoryError):
        raise UserCodeError(f"{path}: nested too deeply for Python's parser") from None
    try:
        exec(code, module.__dict__)
    except Exception as error:
        raise UserCodeError(f"{path}: importing it {failure(error)}{where_in(error, path)}") from None
    return module


def user_module(job: dict[str, Any], module_name: str, upto: int | None = None) -> types.ModuleType:
    """The user's file as a module: a .py file imported whole; a notebook's definitions only,
    from the cells the parent read (``job["cells"]``, the first ``upto`` of them)."""
    path = job["path"]
    if job.get("cells") is None:
        # imported once per run: a learner's script may train, print or write at import time
        if path not in IMPORTED:
            try:
                IMPORTED[path] = _imported(path, module_name)
            except UserCodeError as error:
                IMPORTED[path] = error
        imported = IMPORTED[path]
        if isinstance(imported, UserCodeError):
            raise imported
        return imported
    try:
        code = definitions(path, [tuple(cell) for cell in job["cells"][:upto]], 0)
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
            raise UserCodeError(f"{path}: running its definitions {failure(error)}{where_in(error, path)}") from None
    return module


def user_function(module: types.ModuleType, path: str, name: str) -> Callable[..., Any]:
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


def signature_of(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def load(job: dict[str, Any], module_name: str = "user_step", upto: int | None = None) -> Callable[..., Any]:
    """The step contract: ``func(params, x, y, lr) -> (params, loss)``."""
    path, func = job["path"], job["func"]
    fn = user_function(user_module(job, module_name, upto), path, func)
    if not _accepts(fn, 4):
        raise UserCodeError(f"{path}: {func}{signature_of(fn)} cannot be called as {func}(params, x, y, lr)")
    return fn


def step_function(
    job: dict[str, Any], module_name: str = "user_step", layout: str = "keras", upto: int | None = None
) -> Callable[..., Any]:
    """The user's code as a ``step(params, x, y, lr) -> (params, loss)`` in Keras's layout; the
    user's code gets its parameters and input in ``layout`` (comparisons.audit.layouts).

    ``contract``: ``step`` (the user's own step) or ``tutorial`` (the notebooks'
    ``forward(X, parameters) -> (y_hat, A1)`` and ``update(parameters, y, y_hat, A1, X[, lr])``,
    which changes ``parameters`` in place; the row's loss comes from y_hat by the network's
    loss). ``upto``: a notebook's definitions as they stand after that many of its cells."""
    path = job["path"]
    given = job.get("functions")  # the API's: the user's own function objects, in this process
    shapes = dict(Architecture(tuple(job["sizes"]), ("linear",) * (len(job["sizes"]) - 1), "mse").shapes())
    if job.get("contract", "step") == "step":
        fn = load(job, module_name, upto) if given is None else given[job["func"]]
        if layout == "keras":
            return fn

        def in_layout(params: Params, x: np.ndarray, y: Any, lr: Any) -> Any:
            out = fn(to_layout(layout, params), input_in(layout, x, "step"), y, lr)
            if isinstance(out, tuple | list) and len(out) == 2:
                return from_layout(layout, out[0], shapes), out[1]
            return out

        return in_layout
    forward_name, update_name = job["forward"], job["update"]
    if given is None:
        module = user_module(job, module_name, upto)
        forward, update = user_function(module, path, forward_name), user_function(module, path, update_name)
    else:
        forward, update = given[forward_name], given[update_name]
    wanted = (
        f"the tutorial contract needs {forward_name}(X, parameters) -> (y_hat, A1) and "
        f"{update_name}(parameters, y, y_hat, A1, X[, lr])"
    )
    if not _accepts(forward, 2):
        raise UserCodeError(f"{path}: {wanted}; found {forward_name}{signature_of(forward)}")
    takes_lr = _accepts(update, 6)
    if not takes_lr and not _accepts(update, 5):
        raise UserCodeError(f"{path}: {wanted}; found {update_name}{signature_of(update)}")
    loss = LOSSES[job["loss"]]

    def call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as error:
            raise _RaisedError(name, error) from error

    def step(params: Params, x: np.ndarray, y: np.floating, lr: np.floating) -> tuple[object, Any]:
        parameters = to_layout(layout, params)
        X = input_in(layout, x, "tutorial")
        out = call(forward_name, forward, X, parameters)
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{forward_name} must return (y_hat, A1), returned {type(out).__name__}")
        y_hat = _output(forward_name, out[0])
        call(update_name, update, parameters, y, y_hat, out[1], X, *([lr] if takes_lr else []))
        return from_layout(layout, parameters, shapes), loss(y, y_hat)

    return step


def _output(name: str, y_hat: Any) -> Any:
    """y_hat[0][0], as the tutorial's loop takes it, of whatever shape the forward pass returned
    (a one-element y_hat of any shape is its element); its shape is kept for the findings."""
    try:
        array = np.asarray(y_hat)
    except Exception:  # a ragged list
        raise UserCodeError(f"{name} returned y_hat {type(y_hat).__name__} that is not an array") from None
    if array.dtype.kind not in "fiub":
        raise UserCodeError(f"{name} returned y_hat of {array.dtype} values, not numbers")
    if array.size == 1:
        return array.reshape(-1)[0]
    if array.ndim < 2 or array.size == 0:
        raise UserCodeError(f"{name} returned y_hat of shape {array.shape}, from which y_hat[0][0] cannot be taken")
    SHAPES.setdefault(name, array.shape)
    return array[0][0]


def where_in(error: BaseException, path: str) -> str:
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
            what = f"{failure(raised.error)} {where}{where_in(raised.error, path)}"
            raise UserCodeError(f"{raised.name} {what}") from None
        except Exception as error:
            raise UserCodeError(f"{func} {failure(error)} {where}{where_in(error, path)}") from None
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise UserCodeError(f"{func} must return (params, loss), returned {type(out).__name__} {where}")
        return checked_params(out[0], shapes, dtype, where), checked_loss(out[1], dtype, where)

    return step
