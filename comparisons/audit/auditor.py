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
from comparisons.audit.choice import Choice, choose_for
from comparisons.audit.diagnosis import deviates, deviation_score, diagnose, gradient_distance
from comparisons.audit.discover import Group, find_functions, groups, top_level
from comparisons.audit.divergence import as_table, first_divergence, forced_steps
from comparisons.audit.findings import Finding, ForcedSteps
from comparisons.audit.isolation import user_runs
from comparisons.audit.keras_steps import AuditSpec, arch_of, job_context, keras_side, run_context
from comparisons.audit.known_bugs import find_known_bugs
from comparisons.audit.layouts import DEFAULT_LAYOUT, LAYOUTS, W_SHAPES
from comparisons.audit.model import DEFAULT_MEMORY_MIB, Audit, AuditRun, Contract
from comparisons.audit.network_diagnosis import diagnose_network
from comparisons.audit.sandbox import Sandboxing
from comparisons.cells import read_notebook
from comparisons.errors import InputError
from comparisons.notebook import NotebookCode, NotebookError, definitions, functions_defined
from comparisons.spec import Spec
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance

__all__ = ["audit", "check_auditable", "check_source", "measure", "teacher_forced"]


def check_source(path: Path, cells: tuple[int, int] | None = None) -> NotebookCode | None:
    """Refuse, without running it, a file that is missing or is not Python (or a notebook of it).
    For a notebook, what of it the audit will run (``cells``: only cells A-B)."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.suffix == ".ipynb":
        try:
            return read_notebook(path, cells)
        except NotebookError as error:
            raise InputError(f"{path}: {error}") from None
    if cells is not None:
        raise InputError(f"{path}: --cells chooses a notebook's cells; this is a .py file")
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
    except (RecursionError, MemoryError):  # Python's own parser gives up: importing it would too
        raise InputError(f"{path}: nested too deeply for Python's parser") from None
    return None


def measure(path: Path, spec: Spec, func: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """Every update of the user's step from Keras's state (steps x parameters): its gradient
    distance and its deviation score, run in this process: for measuring the separation."""
    (forced,) = teacher_forced(path, spec, [spec.init], func)
    arch, lr = spec.arch, spec.learning_rate
    return gradient_distance(arch, lr, spec.dtype, forced), deviation_score(arch, lr, spec.dtype, forced)


def teacher_forced(path: Path, spec: Spec, inits: list[str], func: str = "step") -> list[ForcedSteps]:
    """The user's step from Keras's state before every step, under each init, run in this process:
    what the diagnosis reads, for measuring it on its own (the bench)."""
    specs = {init: spec.with_(init=init) for init in inits}
    sides = {init: keras_side(s) for init, s in specs.items()}
    contexts = {init: job_context(s, sides[init]) for init, s in specs.items()}
    job = _job(path, Contract(func=func), spec, contexts)
    outcome = user_runs(path, func, job, 0.0, None)
    return [forced_steps(init, contexts[init], sides[init], outcome["forced"][init]) for init in inits]


def check_auditable(spec: Spec, contract: Contract) -> None:
    """A network's audit replays a stateless step: plain SGD, the step contract."""
    opt = spec.optimizer
    if opt.name != "sgd" or opt.momentum:
        raise InputError(
            f"the audit replays each step from Keras's state, which plain SGD alone needs: "
            f"{opt.name}{' with momentum' if opt.momentum else ''} carries state between steps"
        )
    if contract.kind != "step" or contract.layout not in (None, "keras"):
        raise InputError(
            "a network of your own is audited by the step contract in Keras's layout: step(params, x, y, lr)"
        )


def _job(
    path: Path,
    contract: Contract,
    spec: AuditSpec,
    contexts: dict[str, Any],
    notebook: NotebookCode | None = None,
    probe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    arch = arch_of(spec)
    where = str(path.resolve()) if path.exists() else str(path)
    cells = None if notebook is None else list(notebook.sources)
    return protocol.make_job(where, contract.job(), list(arch.sizes), arch.loss, contexts, cells, probe)


_PROBE_INIT = "seed"  # the problem is told by the first step at this init, where the audit runs it


def _probe(
    base: AuditSpec, contract: Contract, candidates: list[Group] | None, inits: list[str]
) -> dict[str, Any] | None:
    """What the child tries before it runs: every group of definitions, in every layout left
    open, on the problem's first step and (the tutorial's contract) on the other problem's.
    None where nothing is open: a network of the user's, or one group in a layout given."""
    several = candidates is not None and len(candidates) > 1
    if not base.is_document or (contract.layout is not None and not several and contract.kind == "step"):
        return None
    # the first step is all the probe takes: on the audit's own run (at init seed where it has one), no
    # Keras run of its own; the other problem's, one epoch
    init = _PROBE_INIT if _PROBE_INIT in inits else inits[0]
    specs = [base.with_(init=init)]
    if contract.kind == "tutorial":
        other = next(p for p in ("regression", "classification") if p != base.problem)
        specs.append(Spec.document(other, dtype=base.dtype, epochs=1, order=base.order, init=init, seed=base.seed))
    return {
        "groups": [None] if not candidates else [group.upto for group in candidates],
        "layouts": list(LAYOUTS) if contract.layout is None else [contract.layout],
        "contexts": [run_context(spec) | {"loss": spec.loss} for spec in specs],
        "init": init,
        "expected": [float(keras_side(spec).losses[0]) for spec in specs],
        "threshold": AUDIT_THRESHOLDS[base.dtype],
        "floor": AUDIT_FLOOR,
    }


def audit(
    path: Path,
    contract: Contract | str,
    base: AuditSpec,
    inits: list[str],
    timeout: float = 60.0,
    memory: int | None = DEFAULT_MEMORY_MIB,
    known_bugs: bool = True,
    functions: dict[str, Callable[..., Any]] | None = None,
    sandboxed: Sandboxing = False,
    cells: tuple[int, int] | None = None,
) -> Audit:
    """Audit the user's code in ``path`` (a .py file or a notebook; ``contract`` a Contract, or
    the step function's name) under each init. ``memory``: the child process's limit in MiB;
    None runs the user's code in this process, without limits (for tests of the diagnosis).
    ``known_bugs``: on a divergence, also search the catalogue for a set that reproduces it.
    ``functions``: the user's functions themselves, by the contract's names (the Python API):
    they run in this process, and ``path`` only names them. ``sandboxed``: the child runs in
    bubblewrap (comparisons.audit.sandbox). ``cells``: a notebook's cells A-B only. ``base`` not a
    preset: a network of the user's, trained by plain SGD (the step has no state to carry), in
    batches of its batch size; the per-parameter diagnosis and the known-bug catalogue are the
    document's networks' only. The learner's functions, the group of a notebook's definitions
    and the layout are found where not given, and each choice is a note (comparisons.audit.discover,
    comparisons.audit.choice)."""
    contract = Contract(func=contract) if isinstance(contract, str) else contract
    if contract.layout not in (None, *LAYOUTS):
        raise InputError(f"unknown layout {contract.layout!r} (choose from {', '.join(LAYOUTS)})")
    if not base.is_document:
        check_auditable(base, contract)
    if sandboxed and functions is not None:
        raise InputError("functions given in this process cannot run in the sandbox: give their file")
    if sandboxed is True and sandbox.problem() is not None:
        raise InputError(str(sandbox.problem()))
    notes: list[str] = []
    notebook, candidates = None, None
    if functions is None:
        notebook = check_source(path, cells)
        source = None if notebook is not None else path.read_text(encoding="utf-8")
        where = str(path) if cells is None else f"{path} (cells {cells[0]}-{cells[1]})"
        found = find_functions(where, contract, top_level(notebook, source))
        contract, notes = found.contract, list(found.notes)
        if notebook is not None:
            names = [contract.func] if contract.kind == "step" else [contract.forward, contract.update]
            notes += _redefined(notebook, names)
            candidates = groups(notebook, names)
            if not candidates:  # a name defined only after a redefinition of another: the last definitions
                candidates = None
    if not base.is_document and contract.layout is None:
        contract = replace(contract, layout="keras")
    probe = _probe(base, contract, candidates, inits)
    specs = {init: base.with_(init=init) for init in inits}
    sides = {init: keras_side(spec) for init, spec in specs.items()}
    contexts = {init: job_context(spec, sides[init]) for init, spec in specs.items()}
    job = _job(path, contract, base, contexts, notebook, probe)
    if functions is not None:
        job["functions"] = functions
        memory = None
    outcome = user_runs(path, contract.label, job, timeout, memory, sandboxed)
    layout = contract.layout or DEFAULT_LAYOUT[contract.kind]
    if probe is not None:
        choice = choose_for(probe, outcome[protocol.PROBE_LOSSES], contract.kind)  # the child's, made again
        if choice.group is None:
            raise InputError(f"{path}: {_no_group(base, candidates or [], choice)}")
        if "runs" not in outcome:  # the child stops after the probe only where no group is the problem's
            raise InputError(f"{path}: its process sent back something other than the audit's results (a probe alone)")
        layout = choice.layout
        notes += _chosen(base, contract, candidates, choice)
        if notebook is not None and candidates is not None and choice.group is not None:
            upto = candidates[choice.group].upto  # what ran: the group's cells, not the notebook's
            ran = definitions(str(path), list(notebook.sources[:upto]), notebook.cells)
            notebook = replace(ran, order=notebook.order, selected=notebook.selected)
    if protocol.SHAPE in outcome:
        notes.append(
            f"{contract.forward} returns y_hat of shape {outcome[protocol.SHAPE]}, not (1, 1): the audit takes "
            "y_hat[0][0], as the tutorial's loop does"
        )
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
        notes=notes,
        tensors=[key for key, _ in arch.shapes()],
        functions={"step": contract.func}
        if contract.kind == "step"
        else {"forward": contract.forward, "update": contract.update},
        layout=layout,
    )
    diverged = any(r.divergence is not None or r.forced_divergence is not None for r in runs)
    if diverged:
        explain = diagnose if base.is_document else diagnose_network
        findings = explain(arch, base.learning_rate, base.dtype, forced)
        bugs = find_known_bugs(specs, contexts, users, threshold) if known_bugs and base.is_document else None
        if protocol.SHAPE in outcome:
            findings = [_with_shape(f, contract.forward, outcome[protocol.SHAPE]) for f in findings]
        result = replace(result, findings=findings, bugs=bugs)
    return result


def _with_shape(finding: Finding, forward: str, shape: str) -> Finding:
    """A forward finding says what the learner's forward pass returned."""
    if finding.kind != "forward":
        return finding
    return replace(finding, message=f"{finding.message} ({forward} returns y_hat of shape {shape}, not (1, 1))")


def _cells_text(cells: list[int]) -> str:
    return " and ".join(map(str, cells)) if len(cells) <= 2 else ", ".join(map(str, cells[:-1])) + f" and {cells[-1]}"


def _redefined(notebook: NotebookCode, names: list[str]) -> list[str]:
    """Each function the contract uses that the notebook defines more than once, with its cells."""
    defined = functions_defined(notebook)
    return [
        f"{name} is defined more than once, in cells {_cells_text(defined[name])} (--cells A-B audits the "
        "definitions as they stand after cell B)"
        for name in names
        if len(defined.get(name, [])) > 1
    ]


def _chosen(base: AuditSpec, contract: Contract, candidates: list[Group] | None, choice: Choice) -> list[str]:
    """What the probe chose, and why, in the learner's terms."""
    notes = []
    problem, other = base.problem, next(p for p in ("regression", "classification") if p != base.problem)
    if candidates is not None and len(candidates) > 1 and choice.group is not None:
        taken = candidates[choice.group]
        why = (
            f"the last group whose forward pass gives Keras's {problem} loss on the first row"
            if sum(choice.matches) > 1
            else f"its forward pass gives Keras's {problem} loss on the first row"
            if choice.matches[choice.group]
            else f"no group's forward pass gives Keras's {problem} loss on the first row: the last, as the notebook "
            "leaves them"
        )
        theirs = f", the {other} problem's"
        rest = [f"{group.describe()}{theirs if choice.others[g] else ''}" for g, group in enumerate(candidates)]
        rest = [text for g, text in enumerate(rest) if g != choice.group]
        notes.append(f"audited the definitions of {taken.describe()}: {why}; not {'; '.join(rest)}; --cells chooses")
    elif contract.kind == "tutorial" and not choice.matches[-1] and choice.others[-1]:
        notes.append(
            f"{contract.forward} gives Keras's {other} loss on the first row, not the {problem} one: "
            f"is this the {other} problem's code (--problem {other})?"
        )
    # the contract's own layout, found alone or among others that fit as well as it, is no surprise
    # to say: a step in Keras's layout that reshapes runs in the columns too
    if contract.layout is None:
        if choice.ambiguous and contract.kind == "tutorial":
            notes.append(
                f"layout: {choice.layout} (W {W_SHAPES[choice.layout]}), the contract's own; your first step runs "
                f"in more than one ({', '.join(choice.runs)}): --layout chooses"
            )
        elif choice.runs and choice.layout != DEFAULT_LAYOUT[contract.kind] and not choice.ambiguous:
            notes.append(
                f"layout: {choice.layout} (W {W_SHAPES[choice.layout]}), the only one in which your first step "
                f"{_GIVES if len(choice.runs) > 1 else 'runs'} (--layout chooses)"
            )
    return notes


_GIVES = "gives Keras's loss"


def _no_group(base: AuditSpec, candidates: list[Group], choice: Choice) -> str:
    other = next(p for p in ("regression", "classification") if p != base.problem)
    listing = "; ".join(
        f"{group.describe()}{f' gives the {other} loss' if choice.others[g] else ''}"
        for g, group in enumerate(candidates)
    )
    return (
        f"no group of its definitions has a forward pass that gives Keras's {base.problem} loss on the first row: "
        f"{listing}; choose with --cells A-B, or --problem {other}"
    )
