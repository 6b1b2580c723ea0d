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

import contextlib
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from comparisons.audit import protocol, user_code
from comparisons.audit.choice import choose_for
from comparisons.audit.limits import drop_to, limit_resources
from comparisons.audit.optimizer_runs import optimizer_result
from comparisons.audit.returns import UserCodeError
from comparisons.audit.user_code import checked, one_line, step_function
from manual.batch.training import batch_rows
from manual.network import Architecture, Params, copy_params, in_document_order

__all__ = ["UserCodeError", "main", "one_line", "run", "write_result"]


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


def _probe(
    job: dict[str, Any], module_name: str, check: Callable[..., Any]
) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """The first step of every group of definitions in every layout tried, on each problem's
    first step: its loss (NaN where it did not run), sent back, and on the problem's own what
    went wrong, kept here."""
    probe = job["probe"]
    layouts, groups, contexts = probe["layouts"], probe["groups"], probe["contexts"]
    losses = np.full((len(groups), len(layouts), len(contexts)), np.nan)
    errors = np.full((len(groups), len(layouts)), "", dtype=object)
    for g, upto in enumerate(groups):
        for j, layout in enumerate(layouts):
            for c, context in enumerate(contexts):
                try:
                    own = job | {"loss": context.get("loss", job["loss"])}  # the other problem's, on its rows
                    fn = check(step_function(own, f"{module_name}_probe{g}", layout, upto), context)
                    rows = batch_rows(context["order"][:1], context.get("batch", 1))[0]
                    eta = context["X"].dtype.type(context["lr"])
                    _, loss = fn(copy_params(context["params"]), *_inputs(context, rows), eta)
                    losses[g, j, c] = loss
                except UserCodeError as error:
                    if c == 0:
                        errors[g, j] = str(error)
    user_code.SHAPES.clear()
    return {protocol.PROBE_LOSSES: losses}, [list(row) for row in errors]


def _failing_layout(job: dict[str, Any], layouts: list[str], errors: list[str], default: str) -> str:
    """Where no layout runs the first step: one whose forward pass ran, so that the run reports
    the learner's real error (in the update) rather than another layout's shape error."""
    if job.get("contract", "step") != "tutorial":
        return default
    forward = job["forward"]
    forward_ran = [layout for layout, error in zip(layouts, errors, strict=True) if not error.startswith(forward)]
    return default if default in forward_ran or not forward_ran else forward_ran[0]


def _no_layout(layouts: list[str], errors: list[str], layout: str) -> str:
    """What to add to the error where it is a shape error that other layouts do not share."""
    error = errors[layouts.index(layout)]
    if len(set(errors)) > 1 and ("ValueError" in error or "IndexError" in error):
        return f"; it runs in no layout (tried --layout {', '.join(layouts)})"
    return ""


def run(job: dict[str, Any], progress_path: str | None = None, module_name: str = "user_step") -> dict[str, Any]:
    fd = None if progress_path is None else os.open(progress_path, os.O_WRONLY | os.O_CREAT)
    stack = contextlib.ExitStack()
    arch = Architecture(tuple(job["sizes"]), ("linear",) * (len(job["sizes"]) - 1), "mean_squared_error")
    contract = job.get("contract", "step")
    label = job.get("func", "") if contract != "tutorial" else f"{job['forward']}/{job['update']}"

    def progress_in(init: str, what: str = "") -> Callable[[str], None]:
        def write(where: str) -> None:
            if fd is not None:
                os.pwrite(fd, f"{init} {what}{where}".ljust(100).encode(), 0)

        return write

    def checker(init: str, what: str = "") -> Callable[..., Callable[..., tuple[Params, np.floating]]]:
        def check(fn: Callable[..., Any], context: dict[str, Any]) -> Callable[..., tuple[Params, np.floating]]:
            rows = len(batch_rows(context["order"][:1], context.get("batch", 1)))  # steps per epoch
            dtype = str(context["X"].dtype)
            return checked(fn, job["path"], label, arch, rows, dtype, progress_in(init, what))

        return check

    user_code.SHAPES.clear()
    user_code.IMPORTED.clear()
    try:
        # the user's overflows are the audit's findings, not warnings on the terminal
        stack.enter_context(np.errstate(all="ignore"))
        layout, upto, hint = job.get("layout", "keras"), None, ""
        if protocol.is_optimizer(job):
            return optimizer_result(job, module_name, lambda init, where: progress_in(init)(where))
        probed: dict[str, np.ndarray] = {}
        if job.get("probe") is not None:
            probe = job["probe"]
            trying = checker(probe["init"], "while trying each layout and group of definitions ")
            probed, errors = _probe(job, module_name, trying)
            choice = choose_for(probe, probed[protocol.PROBE_LOSSES], job.get("contract", "step"))
            if choice.group is None:  # the notebook's functions are the other problem's: the parent says so
                return probed
            layout, upto = choice.layout, probe["groups"][choice.group]
            if not choice.runs:
                layout = _failing_layout(job, probe["layouts"], errors[choice.group], layout)
                hint = _no_layout(probe["layouts"], errors[choice.group], layout)
        fn = step_function(job, module_name, layout, upto)
        runs = {init: _free(checker(init)(fn, context), arch, context) for init, context in job["runs"].items()}
        forced = {
            init: _forced(checker(init, "from Keras's state ")(fn, context), arch, context)
            for init, context in job["runs"].items()
        }
        shape = {protocol.SHAPE: np.array(str(next(iter(user_code.SHAPES.values()))))} if user_code.SHAPES else {}
        return {"runs": runs, "forced": forced} | probed | shape
    except UserCodeError as error:
        return {protocol.ERROR: f"{error}{hint}"}
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
            for part in (*protocol.PARTS, protocol.OPTIMIZER_PART)
            for init, outcome in result.get(part, {}).items()
            for what, values in outcome.items()
        } | {
            name: np.asarray(result[name])
            for name in (*protocol.EXTRAS, protocol.HYPER, protocol.SOURCE, protocol.LABEL, protocol.CHANGED)
            if name in result
        }
    with open(path, "wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def main() -> None:
    result_path, progress_path, memory, cpu_seconds, *user = sys.argv[1:]
    job = pickle.load(sys.stdin.buffer)  # written by the parent, before any user code ran
    # stdin closed for the user's code: Keras's states came through it and cannot be read again
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    user_code.MEMORY_MIB = int(memory)
    limit_resources(user_code.MEMORY_MIB, int(cpu_seconds))
    if user:
        drop_to(int(user[0]))
    write_result(result_path, run(job, progress_path))


if __name__ == "__main__":
    main()
