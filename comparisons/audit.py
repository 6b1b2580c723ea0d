"""Audit a user's own backprop: their ``step(params, x, y, lr)`` against Keras after every step.

The user's code runs in a process of its own (comparisons.audit_worker) under a
time limit; Keras runs here. A divergence is explained, where possible, by
re-running the known bugs (alone, then in pairs, then more together) and naming
the set that reproduces the user's trajectory under every init.
"""

from __future__ import annotations

import itertools
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from comparisons.errors import InputError
from comparisons.problems import PROBLEMS
from comparisons.run import dataset_arrays, initial_params, keras_model
from comparisons.spec import RunSpec, row_order
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.bugs import KNOWN_BUGS, buggy_step, bugs_for
from manual.network import from_keras_weights, in_document_order, parameter_names, to_keras_weights
from manual.training import steps

__all__ = ["Audit", "AuditRun", "Divergence", "audit", "check_source"]


@dataclass(frozen=True)
class Divergence:
    init: str
    epoch: int  # 1-based
    step: int  # 1-based, within the epoch
    row: int  # 0-based index into the dataset
    row_values: dict[str, float]
    parameters: list[dict[str, Any]]  # name, index, user, keras, distance


@dataclass(frozen=True)
class AuditRun:
    init: str
    max_distance: float
    divergence: Divergence | None

    @property
    def verdict(self) -> str:
        return "match" if self.divergence is None else "diverged"


@dataclass(frozen=True)
class Audit:
    path: str
    func: str
    problem: str
    dtype: str
    epochs: int
    order: str
    threshold: float
    runs: list[AuditRun]
    bugs: list[str] | None = field(default=None)  # the known bugs that reproduce the trajectory

    @property
    def verdict(self) -> str:
        return "match" if all(r.divergence is None for r in self.runs) else "diverged"

    @property
    def first_divergence(self) -> Divergence | None:
        return next((r.divergence for r in self.runs if r.divergence is not None), None)

    @property
    def diagnosis(self) -> str | None:
        if not self.bugs:
            return None
        return "; ".join(KNOWN_BUGS[name].diagnosis for name in self.bugs)


def check_source(path: Path) -> None:
    """Refuse, without running it, a file that is missing or is not Python."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a Python source file (not UTF-8 text)") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise InputError(f"{path}: not valid Python: {error.msg} at line {error.lineno}") from None
    except ValueError as error:  # NUL bytes
        raise InputError(f"{path}: not a Python source file ({error})") from None


_VALUES = ["loss"] + [name for _, _, name in parameter_names(PROBLEMS["regression"].arch)]
# where each value lives in the step's params: (array, index); the loss is no parameter
_WHERE: dict[str, tuple[str | None, list[int] | None]] = {"loss": (None, None)} | {
    name: (key, list(index)) for key, index, name in parameter_names(PROBLEMS["regression"].arch)
}


def _as_table(params: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """(steps, 10): the loss, then every parameter in document order."""
    return np.column_stack([losses, params])


def _user_runs(path: Path, func: str, contexts: dict[str, dict[str, Any]], timeout: float) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="comparisons-audit-") as work:
        job, result, progress = (Path(work) / name for name in ("job.pkl", "result.pkl", "progress"))
        job.write_bytes(pickle.dumps({"path": str(path.resolve()), "func": func, "runs": contexts}))
        progress.write_text("")
        try:
            finished = subprocess.run(
                [sys.executable, "-m", "comparisons.audit_worker", str(job), str(result), str(progress)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            where = progress.read_text().strip() or "while importing it"
            raise InputError(
                f"{path}: {func} did not finish within {timeout:g} s, stopped at init {where}; an endless loop?"
            ) from None
        if finished.returncode != 0 or not result.exists():
            last = (finished.stderr.strip().splitlines() or ["no message"])[-1]
            raise InputError(f"{path}: running it ended the process (exit status {finished.returncode}): {last}")
        outcome = pickle.loads(result.read_bytes())
    if "error" in outcome:
        raise InputError(outcome["error"] if outcome["error"].startswith(str(path)) else f"{path}: {outcome['error']}")
    return {init: _as_table(r["params"], r["losses"]) for init, r in outcome["runs"].items()}


def _keras_run(spec: RunSpec, context: dict[str, Any]) -> np.ndarray:
    import reference

    arch = spec.definition.arch
    weights = to_keras_weights(arch, context["params"])
    model = keras_model(arch, spec.dtype)
    result = reference.train_steps(model, weights, context["X"], context["y"], context["order"], spec.learning_rate)
    params = np.array([in_document_order(arch, from_keras_weights(arch, ws)) for ws in result.weights])
    return _as_table(params, result.losses)


def _first_divergence(
    init: str,
    user: np.ndarray,
    keras: np.ndarray,
    distance: np.ndarray,
    threshold: float,
    context: dict[str, Any],
    problem: str,
) -> Divergence | None:
    over = np.flatnonzero((distance > threshold).any(axis=1))
    if not len(over):
        return None
    k = int(over[0])
    rows_per_epoch = context["order"].shape[1]
    row = int(context["order"].reshape(-1)[k])
    definition = PROBLEMS[problem]
    columns = [*definition.features, definition.target]
    values = [*context["X"][row], context["y"][row]]
    parameters = [
        {
            "name": name,
            "array": _WHERE[name][0],
            "index": _WHERE[name][1],
            "user": float(user[k, j]),
            "keras": float(keras[k, j]),
            "distance": float(distance[k, j]),
        }
        for j, name in enumerate(_VALUES)
        if distance[k, j] > threshold
    ]
    return Divergence(
        init,
        k // rows_per_epoch + 1,
        k % rows_per_epoch + 1,
        row,
        dict(zip(columns, map(float, values), strict=True)),
        parameters,
    )


def _reproduces(
    bugs: tuple[str, ...], spec: RunSpec, context: dict[str, Any], user: np.ndarray, threshold: float
) -> bool:
    step = buggy_step(spec.definition.arch, bugs)
    for k, record in enumerate(
        steps(step, context["params"], context["X"], context["y"], context["order"], spec.learning_rate)
    ):
        values = [record.loss, *in_document_order(spec.definition.arch, record.params)]
        if (relative_distance(values, user[k], AUDIT_FLOOR) > threshold).any():
            return False
    return True


def _diagnose(
    specs: dict[str, RunSpec], contexts: dict[str, dict[str, Any]], users: dict[str, np.ndarray], threshold: float
) -> list[str] | None:
    """The smallest set of known bugs that reproduces the user's trajectory under every init."""
    names = [bug.name for bug in bugs_for(next(iter(specs.values())).definition.arch)]
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            if all(_reproduces(combo, specs[init], contexts[init], users[init], threshold) for init in specs):
                return list(combo)
    return None


def audit(path: Path, func: str, base: RunSpec, inits: list[str], timeout: float) -> Audit:
    check_source(path)
    specs = {init: base.with_(init=init) for init in inits}
    contexts = {}
    for init, spec in specs.items():
        X, y = dataset_arrays(spec, None)
        contexts[init] = {
            "params": initial_params(spec),
            "X": X,
            "y": y,
            "order": row_order(spec, len(X)),
            "lr": spec.learning_rate,
        }
    users = _user_runs(path, func, contexts, timeout)
    threshold = AUDIT_THRESHOLDS[base.dtype]
    runs = []
    for init, spec in specs.items():
        keras = _keras_run(spec, contexts[init])
        distance = relative_distance(users[init], keras, AUDIT_FLOOR)
        divergence = _first_divergence(init, users[init], keras, distance, threshold, contexts[init], base.problem)
        runs.append(AuditRun(init, float(distance.max()), divergence))
    result = Audit(str(path), func, base.problem, base.dtype, base.epochs, base.order, threshold, runs)
    if result.verdict == "diverged":
        result = replace(result, bugs=_diagnose(specs, contexts, users, threshold))
    return result


def as_json(result: Audit) -> dict[str, Any]:
    first = result.first_divergence
    return {
        "verdict": result.verdict,
        "problem": result.problem,
        "dtype": result.dtype,
        "epochs": result.epochs,
        "threshold": result.threshold,
        "runs": [{"init": r.init, "verdict": r.verdict, "max_distance": r.max_distance} for r in result.runs],
        "first_divergence": None
        if first is None
        else {
            "init": first.init,
            "epoch": first.epoch,
            "step": first.step,
            "row": first.row,
            "row_values": first.row_values,
            "parameters": first.parameters,
        },
        "diagnosis": result.diagnosis,
        "bugs": result.bugs,
    }


def as_text(result: Audit) -> str:
    where = f"{result.path}:{result.func}"
    settings = (
        f"{result.problem}, {result.dtype}, {result.epochs} epochs, {result.order} rows, threshold {result.threshold:g}"
    )
    worst = max(r.max_distance for r in result.runs)
    if result.verdict == "match":
        inits = ", ".join(r.init for r in result.runs)
        return (
            f"MATCH: {where} agrees with Keras after every step under every init ({inits}; {settings}); "
            f"max distance {worst:.3g}"
        )
    lines = [f"DIVERGED: {where} differs from Keras ({settings})"]
    for r in result.runs:
        state = (
            "matches after every step"
            if r.divergence is None
            else f"diverges at epoch {r.divergence.epoch}, step {r.divergence.step}"
        )
        lines.append(f"  init {r.init + ':':<7} {state} (max distance {r.max_distance:.3g})")
    first = result.first_divergence
    assert first is not None
    cells = ", ".join(f"{k}={v:g}" for k, v in first.row_values.items())
    lines.append(
        f"First divergence: init {first.init}, epoch {first.epoch}, step {first.step}, row {first.row} ({cells})"
    )
    lines.append(f"  {'value':<8} {'index':<9} {'user':>24} {'keras':>24} {'distance':>10}")
    for p in first.parameters:
        index = "" if p["array"] is None else f"{p['array']}[{', '.join(map(str, p['index']))}]"
        lines.append(f"  {p['name']:<8} {index:<9} {p['user']!r:>24} {p['keras']!r:>24} {p['distance']:>10.3g}")
    hidden = [r.init for r in result.runs if r.divergence is None]
    if hidden:
        lines.append(f"Invisible under init {', '.join(hidden)}: only the other inits expose it.")
    if result.bugs:
        together = "" if len(result.bugs) == 1 else f" ({len(result.bugs)} known bugs together)"
        lines.append(f"Diagnosis{together}: {result.diagnosis}.")
        plural = "s" if len(result.bugs) > 1 else ""
        lines.append(f"  Reproduced by known bug{plural} {', '.join(result.bugs)} under every init.")
    else:
        lines.append("Diagnosis: none of the known bugs, alone or together, reproduces this trajectory.")
    return "\n".join(lines)
