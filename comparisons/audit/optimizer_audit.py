"""Audit a learner's own optimizer: deeplearning.ai's functions or an optimizer class, against every
convention of its method, and against Keras's own optimizer.

Only the optimizer is judged. The learner's update runs free on a network and
rows built so that every hyperparameter matters (comparisons.audit.optimizer_runs,
in the sandboxed child), handed manual/'s true gradient at its own parameters at
every step; comparisons.audit.optimizer_verdict replays each convention from the
same state and names the one the learner wrote, or the mistake. Keras's own
optimizer, run here from the same states on the same gradients, says how far
Keras is from the convention found.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from comparisons.audit import protocol
from comparisons.audit.auditor import check_source
from comparisons.audit.findings import Finding
from comparisons.audit.isolation import user_runs
from comparisons.audit.model import DEFAULT_MEMORY_MIB
from comparisons.audit.optimizer_code import DLAI, RELEVANT
from comparisons.audit.optimizer_verdict import OptimizerRun, judge, shape_findings
from comparisons.audit.render.html import optimizer_html
from comparisons.audit.render.json import optimizer_json
from comparisons.audit.render.text import optimizer_text
from comparisons.audit.sandbox import Sandboxing
from comparisons.audit.scored import Scored
from comparisons.data import synthetic_data
from comparisons.errors import InputError
from comparisons.notebook import NotebookCode
from comparisons.run import initial_params
from comparisons.spec import Spec, row_order
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.batch.conventions import CONVENTIONS, keras_equivalent
from manual.batch.optimizers import OptimizerConfig
from manual.batch.training import backward, batch_rows, forward
from manual.network import Architecture, from_document_order, in_document_order, tensor_slices
from reference import runner
from reference.protocol import unnumbered

__all__ = ["KERAS_NAMES", "OptimizerAudit", "OptimizerJob", "audit_optimizer", "optimizer_context", "optimizer_spec"]

# the audit's optimizer names, and Keras's optimizer for each (momentum is Keras's SGD with momentum)
KERAS_NAMES = {"sgd": "sgd", "momentum": "sgd", "adam": "adam", "rmsprop": "rmsprop", "adagrad": "adagrad"}
_KERAS = threading.Lock()
DEAD_BIAS = -100.0  # hidden unit 1's bias: a relu that never fires, whose gradients are exactly zero


def optimizer_spec(kind: str, lr: float, dtype: str = "float64", epochs: int = 10, seed: int = 0) -> Spec:
    """The network the optimizers are audited on: 4 inputs, 5 relu units, 3 linear outputs, squared
    error, batches of 4 from 16 rows (the rows, optimizer_rows)."""
    config = OptimizerConfig(KERAS_NAMES[kind], lr, momentum=0.9 if kind == "momentum" else 0.0)
    return Spec(
        (4, 5, 3),
        ("relu", "linear"),
        "mean_squared_error",
        config,
        batch_size=4,
        rows=16,
        epochs=epochs,
        dtype=dtype,
        seed=seed,
    )


def optimizer_context(spec: Spec) -> dict[str, Any]:
    """Rows and a start that make every hyperparameter matter: gradients of every size and both
    signs, an unused input and a dead unit (gradients exactly zero: epsilon decides their update
    where it sits inside a square root), and a tiny input (gradients near epsilon's size)."""
    X, Y = synthetic_data(spec)
    X = X.copy()
    X[:, 0] = 0  # an unused input: W1's first row never gets a gradient
    X[:, 1] *= X.dtype.type(1e-7)  # a tiny one: its gradients are of epsilon's size
    X[:, 3] *= X.dtype.type(30)  # a large one
    params = initial_params(spec)
    params = {key: value.copy() for key, value in params.items()}
    params["b1"][0] = DEAD_BIAS
    return {
        "params": params,
        "X": X,
        "y": Y,
        "order": row_order(spec, len(X)),
        "lr": spec.learning_rate,
        "batch": spec.batch_size,
    }


@dataclass(frozen=True)
class OptimizerAudit(Scored):
    path: str
    label: str  # the learner's function or class
    optimizer: str  # sgd, momentum, adam, rmsprop, adagrad
    contract: str  # dlai, class
    dtype: str
    steps: int  # per init
    inits: list[str]
    threshold: float
    convention: str | None  # the convention every update matches, or None
    described: str  # what that convention is (the nearest one where none matches)
    distance: float  # the largest per-update distance from it
    keras: float  # the largest per-update distance of Keras's own optimizer from the learner's, from the same state
    keras_lr: float  # the learning rate Keras's optimizer ran with: deeplearning.ai's momentum's is eta (1 - beta)
    learning_rate: float  # the learning rate the conventions were replayed with, and the learner's ran with
    momentum: float  # and the momentum
    hyper: dict[str, tuple[float, str]]  # the hyperparameters it ran with, and where each came from
    findings: list[Finding] = field(default_factory=list)
    notebook: NotebookCode | None = None
    reshaped: dict[str, Any] | None = None  # where an update first gave a tensor back in another shape
    tensors: list[str] = field(default_factory=list)  # the network's, in order: W1, b1, ... (the rubric's groups)

    def __str__(self) -> str:
        return optimizer_text(self)

    def __repr__(self) -> str:
        where = f"{self.path}:{self.label}"
        return f"<OptimizerAudit {self.verdict}: {where}, {self.optimizer}, {self.dtype}, inits {self.inits}>"

    def to_json(self) -> dict[str, Any]:
        return optimizer_json(self)

    def _repr_html_(self) -> str:
        return optimizer_html(self)

    @property
    def keras_described(self) -> str:
        return CONVENTIONS[self.optimizer]["keras"][1]

    @property
    def verdict(self) -> str:
        return "match" if self.convention is not None and not self.findings else "diverged"


@dataclass(frozen=True)
class OptimizerJob:
    """What a class's optimizers are graded by: the contract, the optimizer, its network, the given hyperparameters."""

    contract: str
    kind: str
    spec: Spec
    given: dict[str, float]
    class_name: str | None = None

    def run(self, path: Path, inits: list[str], timeout: float, memory: int, sandboxed: Sandboxing) -> OptimizerAudit:
        return audit_optimizer(
            path, self.contract, self.kind, self.spec, inits, self.given, self.class_name, timeout, memory, sandboxed
        )


def audit_optimizer(
    path: Path,
    contract: str,
    kind: str,
    spec: Spec,
    inits: list[str],
    given: dict[str, float],
    class_name: str | None = None,
    timeout: float = 60.0,
    memory: int | None = DEFAULT_MEMORY_MIB,
    sandboxed: Sandboxing = False,
    cells: tuple[int, int] | None = None,
    functions: dict[str, Any] | None = None,
    keras: bool = True,
) -> OptimizerAudit:
    """``contract``: dlai or class; ``kind``: the optimizer; ``spec``: optimizer_spec's; ``given``: the
    hyperparameters the audit was told (the learning rate always); ``memory`` None: in this process;
    ``functions``: the learner's functions or class themselves, by name (the Python API), run here;
    ``keras``: False leaves Keras's own optimizer out (tests of the verdict alone)."""
    if kind not in CONVENTIONS:
        raise InputError(f"unknown optimizer {kind!r} (choose from {', '.join(CONVENTIONS)})")
    notebook = check_source(path, cells) if functions is None else None
    arch = spec.arch
    contexts = {init: optimizer_context(spec.with_(init=init)) for init in inits}
    where = str(path.resolve()) if path.exists() else str(path)
    fields = {
        "contract": contract,
        "optimizer": kind,
        "class": class_name,
        "given": given,
        "activations": list(arch.activations),
    }
    cells_ = None if notebook is None else list(notebook.sources)
    job = protocol.make_job(where, fields, list(arch.sizes), arch.loss, contexts, cells_)
    if functions is not None:
        job["functions"], memory = functions, None
    label = class_name or ("the optimizer class" if contract == "class" else DLAI[kind][1] if kind in DLAI else kind)
    outcome = user_runs(path, label, job, timeout, memory, sandboxed)
    changed = outcome[protocol.CHANGED]
    runs = []
    for i, init in enumerate(inits):
        arrays = [outcome[protocol.OPTIMIZER_PART][init][what] for what in protocol.OPTIMIZER_VALUES]
        steps = int(changed[i, :, 0].max()) if (changed[i, :, 0] >= 0).any() else len(arrays[0])
        _check_run(path, arch, contexts[init], arrays, steps)
        runs.append(OptimizerRun(init, *(a[:steps] for a in arrays)))
    try:
        shapes = shape_findings(contract, arch, inits, changed)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    hyper = {
        name: (float(value), protocol.SOURCES[int(source)])
        for name, value, source in zip(
            protocol.HYPER_NAMES, outcome[protocol.HYPER], outcome[protocol.SOURCE], strict=True
        )
        if not np.isnan(value) and name in RELEVANT[kind]
    }
    config = _config(kind, spec.learning_rate, hyper)
    verdict = judge(kind, config, arch, runs, hyper, tuple(shapes))
    named = verdict.convention or verdict.nearest
    keras_config = keras_equivalent(named, config)
    # Keras's own optimizer is said beside a convention found; a mistake is told against the conventions
    found = verdict.convention is not None and keras and _keras_takes(keras_config)
    distance = _keras_distance(kind, keras_config, arch, runs) if found else float("nan")
    return OptimizerAudit(
        str(path),
        str(outcome[protocol.LABEL]),
        kind,
        contract,
        spec.dtype,
        len(runs[0].before),
        inits,
        AUDIT_THRESHOLDS[spec.dtype],
        verdict.convention,
        CONVENTIONS[kind][named][1],
        verdict.distance,
        distance,
        keras_config.learning_rate,
        config.learning_rate,
        config.momentum,
        hyper,
        verdict.findings,
        notebook,
        shapes[0].first if shapes else None,
        [key for key, _ in arch.shapes()],
    )


def _keras_takes(config: OptimizerConfig) -> bool:
    """Whether Keras's optimizer accepts these values (a learner's momentum of 1.5 it refuses): where it
    does not, the findings say why and Keras's own line is left out."""
    fractions = (config.momentum, config.beta_1, config.beta_2, config.rho)
    return all(0 <= value <= 1 for value in fractions) and config.epsilon >= 0 and config.learning_rate > 0


def _check_run(path: Path, arch: Architecture, context: dict[str, Any], arrays: list[np.ndarray], steps: int) -> None:
    """The child's record is the run it was asked for: each step starts where the last one ended,
    the first from the audit's start, and each gradient is manual/'s at the step's parameters on its
    batch (recomputed here); after ``steps`` (where an update changed a shape) every value is NaN.
    The learner's code runs in the child and could rewrite the record."""
    before, given, after = (a[:steps] for a in arrays)
    batches = batch_rows(context["order"], context["batch"])
    start = np.array(in_document_order(arch, context["params"]), dtype=before.dtype)
    chained = (steps == 0 or np.array_equal(before[0], start, equal_nan=True)) and np.array_equal(
        before[1:], after[:-1], equal_nan=True
    )
    ended = all(np.isnan(a[steps:]).all() for a in arrays)
    grads = []
    with np.errstate(all="ignore"):
        for state, rows in zip(before, batches[:steps], strict=True):
            params = from_document_order(arch, state)
            outputs, _ = forward(arch, params, context["X"][rows])
            grads.append(in_document_order(arch, backward(arch, params, outputs, context["y"][rows])))
    rtol = 1e-12 if before.dtype == np.float64 else 1e-5  # BLAS may sum in another order here
    same = np.allclose(
        np.array(grads, dtype=np.float64).reshape(given.shape),
        given.astype(np.float64),
        rtol=rtol,
        atol=0,
        equal_nan=True,
    )
    if not (chained and ended and same):
        raise InputError(
            f"{path}: its process sent back something other than the audit's results (a run it did not make)"
        )


def _config(kind: str, lr: float, hyper: dict[str, tuple[float, str]]) -> OptimizerConfig:
    """The learner's hyperparameters as Keras's optimizer takes them; Keras's defaults where the code has none."""
    values = {name: value for name, (value, _) in hyper.items() if name != "learning_rate"}
    config = OptimizerConfig(KERAS_NAMES[kind], lr)
    if kind == "momentum":
        values.setdefault("momentum", 0.9)
    return replace(config, **values)  # type: ignore[arg-type]  # the float fields alone: HYPER_NAMES


def _keras_distance(kind: str, config: OptimizerConfig, arch: Architecture, runs: list[OptimizerRun]) -> float:
    """How far Keras's own optimizer's updates are from the learner's, each from the learner's state
    with the same gradients (reference/'s ``optimizer_replay``)."""
    shapes = [list(shape) for _, shape in arch.shapes()]
    slices = list(tensor_slices(arch).values())
    worst = 0.0
    for run in runs:
        T = len(run.before)
        before = [run.before[:, cols].reshape(T, *shape) for cols, shape in zip(slices, shapes, strict=True)]
        grads = [run.grads[:, cols].reshape(T, *shape) for cols, shape in zip(slices, shapes, strict=True)]
        with _KERAS:  # a graded class's threads take turns with TensorFlow
            result = runner.run(
                "optimizer_replay",
                dtype=str(run.before.dtype),
                optimizer=config.name,
                arguments=config.keras_arguments(),
                shapes=shapes,
                before=before,
                grads=grads,
            )
        after = np.concatenate([a.reshape(T, -1) for a in unnumbered("after", result)], axis=1)
        with np.errstate(all="ignore"):
            distance = relative_distance(run.after, after, AUDIT_FLOOR)
        worst = max(worst, float(np.nanmax(np.where(np.isnan(distance), np.inf, distance))))
    return worst
