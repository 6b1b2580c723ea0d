"""Audit a user's own backprop: their ``step(params, x, y, lr)`` against Keras after every step.

The user's code runs in a process of its own (comparisons.audit.worker) under a
time and a memory limit; Keras runs here. Two passes of the user's step:

- free-running from the initial weights, compared with Keras's trajectory after
  every step: where, if anywhere, the two part;
- teacher-forced, every step from Keras's state before it, judged in gradient
  space by comparisons.audit.diagnosis: which parameter's update is wrong, and how.

The known-bug catalogue stays as a second opinion: the smallest set of known
bugs that reproduces the user's whole trajectory under every init.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from comparisons.audit import protocol, sandbox
from comparisons.audit.diagnosis import deviates, deviation_score, diagnose, gradient_distance
from comparisons.audit.divergence import as_table, first_divergence, forced_steps
from comparisons.audit.isolation import user_runs
from comparisons.audit.keras_steps import AuditSpec, arch_of, job_context, keras_side
from comparisons.audit.known_bugs import find_known_bugs
from comparisons.audit.model import DEFAULT_MEMORY_MIB, Audit, AuditRun, Contract
from comparisons.errors import InputError
from comparisons.notebook import NotebookCode, NotebookError, read_notebook
from comparisons.spec import Spec
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance

__all__ = ["audit", "check_auditable", "check_source", "measure"]


def check_source(path: Path) -> NotebookCode | None:
    """Refuse, without running it, a file that is missing or is not Python (or a notebook of it).
    For a notebook, what of it the audit will run."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.suffix == ".ipynb":
        try:
            return read_notebook(path)
        except NotebookError as error:
            raise InputError(f"{path}: {error}") from None
    try:
        source = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a Python source file (not UTF-8 text)") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise InputError(f"{path}: not valid Python: {error.msg} at line {error.lineno}") from None
    except ValueError as error:  # NUL bytes
        raise InputError(f"{path}: not a Python source file ({error})") from None
    return None


def measure(path: Path, spec: Spec, func: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """Every update of the user's step from Keras's state (steps x parameters): its gradient
    distance and its deviation score, run in this process: for measuring the separation."""
    side = keras_side(spec)
    context = job_context(spec, side)
    job = _job(path, Contract(func=func), spec, {"one": context})
    outcome = user_runs(path, func, job, 0.0, None)
    forced = forced_steps(spec.init, context, side, outcome["forced"]["one"])
    arch, lr = spec.arch, spec.learning_rate
    return gradient_distance(arch, lr, spec.dtype, forced), deviation_score(arch, lr, spec.dtype, forced)


def check_auditable(spec: Spec, contract: Contract) -> None:
    """A network's audit replays a stateless step: plain SGD, the step contract."""
    opt = spec.optimizer
    if opt.name != "sgd" or opt.momentum:
        raise InputError(
            f"the audit replays each step from Keras's state, which plain SGD alone needs: "
            f"{opt.name}{' with momentum' if opt.momentum else ''} carries state between steps"
        )
    if contract.kind != "step" or contract.layout != "keras":
        raise InputError(
            "a network of your own is audited by the step contract in Keras's layout: step(params, x, y, lr)"
        )


def _job(path: Path, contract: Contract, spec: AuditSpec, contexts: dict[str, Any]) -> dict[str, Any]:
    arch = arch_of(spec)
    where = str(path.resolve()) if path.exists() else str(path)
    return protocol.make_job(where, contract.job(), list(arch.sizes), arch.loss, contexts)


def audit(
    path: Path,
    contract: Contract | str,
    base: AuditSpec,
    inits: list[str],
    timeout: float = 60.0,
    memory: int | None = DEFAULT_MEMORY_MIB,
    known_bugs: bool = True,
    functions: dict[str, Callable[..., Any]] | None = None,
    sandboxed: bool = False,
) -> Audit:
    """Audit the user's code in ``path`` (a .py file or a notebook; ``contract`` a Contract, or
    the step function's name) under each init. ``memory``: the child process's limit in MiB;
    None runs the user's code in this process, without limits (for tests of the diagnosis).
    ``known_bugs``: on a divergence, also search the catalogue for a set that reproduces it.
    ``functions``: the user's functions themselves, by the contract's names (the Python API):
    they run in this process, and ``path`` only names them. ``sandboxed``: the child runs in
    bubblewrap (comparisons.audit.sandbox). ``base`` not a preset: a network of the user's, trained
    by plain SGD (the step has no state to carry), in batches of its batch size; the
    per-parameter diagnosis and the known-bug catalogue are the document's networks' only."""
    contract = Contract(func=contract) if isinstance(contract, str) else contract
    if not base.is_document:
        check_auditable(base, contract)
    if sandboxed and functions is not None:
        raise InputError("functions given in this process cannot run in the sandbox: give their file")
    if sandboxed and sandbox.problem() is not None:
        raise InputError(str(sandbox.problem()))
    notebook = check_source(path) if functions is None else None
    specs = {init: base.with_(init=init) for init in inits}
    sides = {init: keras_side(spec) for init, spec in specs.items()}
    contexts = {init: job_context(spec, sides[init]) for init, spec in specs.items()}
    job = _job(path, contract, base, contexts)
    if functions is not None:
        job["functions"] = functions
        memory = None
    outcome = user_runs(path, contract.label, job, timeout, memory, sandboxed)
    threshold = AUDIT_THRESHOLDS[base.dtype]
    arch = arch_of(base)
    runs, forced, users, traces = [], [], {}, {}
    for init, spec in specs.items():
        side, context = sides[init], contexts[init]
        users[init] = as_table(outcome["runs"][init]["params"], outcome["runs"][init]["losses"])
        keras = as_table(side.after, side.losses)
        distance = relative_distance(users[init], keras, AUDIT_FLOOR)
        over = distance > threshold
        divergence = first_divergence(init, users[init], keras, distance, over, context, base.problem, arch)
        steps_ = forced_steps(init, context, side, outcome["forced"][init])
        forced.append(steps_)
        user_forced = as_table(steps_.user_new, steps_.user_loss)
        forced_divergence = first_divergence(
            init,
            user_forced,
            keras,
            relative_distance(user_forced, keras, AUDIT_FLOOR),
            deviates(arch, spec.learning_rate, base.dtype, steps_),
            context,
            base.problem,
            arch,
        )
        runs.append(AuditRun(init, float(distance.max()), divergence, forced_divergence))
        traces[init] = {"distance": distance.max(axis=1), "user_loss": users[init][:, 0], "keras_loss": keras[:, 0]}
    result = Audit(
        str(path),
        contract.label,
        base.problem if base.is_document else base.network,
        base.dtype,
        base.epochs,
        base.order,
        threshold,
        runs,
        notebook=notebook,
        traces=traces,
        per_parameter=base.is_document,
    )
    diverged = any(r.divergence is not None or r.forced_divergence is not None for r in runs)
    if diverged and base.is_document:
        findings = diagnose(arch, base.learning_rate, base.dtype, forced)
        bugs = find_known_bugs(specs, contexts, users, threshold) if known_bugs else None
        result = replace(result, findings=findings, bugs=bugs)
    return result
