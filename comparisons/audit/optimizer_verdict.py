"""Which optimizer the learner wrote: Keras's, another known convention, or a mistake, and which.

Every update the learner's optimizer made is judged from its own state: the
parameters it started the step from, and the gradients it had been handed so far.
Each convention (manual/batch/conventions.py) and each known mistake
(manual/batch/optimizer_bugs.py) is replayed on the same gradients from the same
parameters, so an error at one step never compounds into the next. For these
optimizers an update depends on the gradients alone, never on the parameters, so
the replay is exact: a convention matches when every update is within the audit's
threshold (1e-10 relative in float64), never a looser tolerance.

Where no convention matches, each tensor is explained by the known mistake that
reproduces every one of its updates, or by not-updated, sign, a constant factor,
and else wrong, with the numbers. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comparisons.audit.findings import Finding
from comparisons.audit.optimizer_code import learner_shape
from comparisons.errors import InputError
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.batch.conventions import CONVENTIONS
from manual.batch.optimizer_bugs import OPTIMIZER_BUGS
from manual.batch.optimizers import Optimizer, OptimizerConfig
from manual.network import Architecture, from_document_order, tensor_slices

__all__ = ["USUAL_VALUES", "OptimizerRun", "Verdict", "base_convention", "judge", "replay", "shape_findings"]

# The values most code uses, per hyperparameter: a learner's own default outside them is a finding
USUAL_VALUES = {
    "momentum": (0.9,),
    "beta_1": (0.9,),
    "beta_2": (0.999,),
    "epsilon": (1e-7, 1e-8, 1e-10),
    "rho": (0.9, 0.99),
}


@dataclass(frozen=True)
class OptimizerRun:
    """One init's run of the learner's optimizer: (steps, P) each, in document order."""

    init: str
    before: np.ndarray
    grads: np.ndarray
    after: np.ndarray


@dataclass(frozen=True)
class Verdict:
    convention: str | None  # the convention every update matches, or None
    distance: float  # the largest per-update distance from it (from the nearest convention where None)
    nearest: str  # the convention the findings are told against
    findings: list[Finding]


def replay(form: type[Optimizer], config: OptimizerConfig, arch: Architecture, run: OptimizerRun) -> np.ndarray:
    """(steps, P): ``form``'s update of each step's parameters, its state built from the same gradients."""
    dtype = run.before.dtype
    optimizer = form(config, np.dtype(dtype))
    out = []
    with np.errstate(all="ignore"):  # a mistake's 0/0 is its own result
        for before, grads in zip(run.before, run.grads, strict=True):
            new = optimizer.apply(from_document_order(arch, before), from_document_order(arch, grads))
            out.append(np.concatenate([new[key].ravel() for key, _ in arch.shapes()]))
    return np.array(out, dtype=dtype)


def _distance(run: OptimizerRun, predicted: np.ndarray) -> np.ndarray:
    """(steps, P): how far each of the learner's updates is from a prediction made from the same state."""
    with np.errstate(all="ignore"):
        distance = relative_distance(run.after, predicted, AUDIT_FLOOR)
    return np.where(np.isnan(distance), np.inf, distance)


def judge(
    kind: str,
    config: OptimizerConfig,
    arch: Architecture,
    runs: list[OptimizerRun],
    hyper: dict[str, tuple[float, str]],
    shapes: tuple[Finding, ...] = (),
) -> Verdict:
    """``kind``: the optimizer (conventions.py's names); ``hyper``: each hyperparameter's value and origin;
    ``shapes``: shape_findings' (each run then ends before the step that changed a shape)."""
    threshold = AUDIT_THRESHOLDS[str(runs[0].before.dtype)]
    findings = _hyperparameters(kind, hyper, runs) + list(shapes)
    if not any(len(run.before) for run in runs):  # the first update already changed a shape
        return Verdict(None, float("inf"), "keras", findings)
    predicted = {
        name: [replay(form, config, arch, run) for run in runs] for name, (form, _) in CONVENTIONS[kind].items()
    }
    distances = {
        name: np.concatenate([_distance(run, p) for run, p in zip(runs, predicted[name], strict=True)])
        for name in predicted
    }
    worst = {name: float(d.max()) for name, d in distances.items()}
    nearest = min(worst, key=lambda name: worst[name])
    if worst[nearest] <= threshold and shapes:  # right up to a step that changed a shape
        return Verdict(None, worst[nearest], nearest, findings)
    if worst[nearest] <= threshold:
        return Verdict(nearest, worst[nearest], nearest, findings)
    explained, bases = _explain(kind, config, arch, runs, np.concatenate(predicted[nearest]), threshold, distances)
    if len(bases) == 1:  # every mistake found is written on one convention: the learner's, told against it
        nearest = next(iter(bases))
    return Verdict(None, worst[nearest], nearest, findings + explained)


def base_convention(kind: str, form: type[Optimizer]) -> str | None:
    """The convention a known mistake is written on (Keras's: its exact form's class, or Keras's own)."""
    conventions = CONVENTIONS[kind]
    written_on = [name for name, (convention, _) in conventions.items() if issubclass(form, convention)]
    if written_on:
        return written_on[0]
    keras = conventions["keras"][0].__mro__[1]  # exact()'s parent: Keras's own form, with float32 constants
    return "keras" if issubclass(form, keras) else None


def shape_findings(contract: str, arch: Architecture, inits: list[str], changed: np.ndarray) -> list[Finding]:
    """The tensors an update gave back in another shape (protocol.CHANGED's record), at the first
    init whose run changed one: its own update broadcast is a state of the wrong shape; a bias in a
    weight's shape, a weight's gradient or state applied to it; any other shape, wrong."""
    keys = [key for key, _ in arch.shapes()]
    hit = [i for i in range(len(inits)) if (changed[i, :, 0] >= 0).any()]
    if not hit:
        return []
    i = hit[0]
    shapes = dict(arch.shapes())
    handed = {key: learner_shape(contract, key, shape) for key, shape in shapes.items()}
    groups: dict[str, list[str]] = {}
    returned: dict[str, tuple[int, ...]] = {}
    weights: dict[str, str] = {}
    for t, key in enumerate(keys):
        step, broadcast, *dims = (int(v) for v in changed[i, t])
        if step < 0:
            continue
        returned[key] = tuple(d for d in dims if d >= 0)
        if returned[key] == handed[key]:
            raise InputError("its process sent back something other than the audit's results (a shape unchanged)")
        weight = next((w for w in keys if w[0] == "W" and key[0] == "b" and handed[w] == returned[key]), None)
        if weight is not None:
            weights[key] = weight
        kind = "state" if broadcast == 1 else "other-parameter" if weight is not None else "wrong"
        groups.setdefault(kind, []).append(key)
    first = {"init": inits[i], "step": int(changed[i, :, 0].max()) + 1}
    out = []
    for kind, tensors in groups.items():
        listed = tensors[0] if len(tensors) == 1 else ", ".join(tensors[:-1]) + f" and {tensors[-1]}"
        said = ", ".join(f"{t} {returned[t]} where it was handed {handed[t]}" for t in tensors)
        if kind == "state":
            message = (
                f"given back in another shape, {said}, its own update repeated along the axes its shape lacks: "
                "its state (v, s) has another shape and was broadcast; check the state is initialized with "
                "the tensor's shape (np.zeros_like)"
            )
        elif kind == "other-parameter":
            said = ", ".join(f"{t} in {weights[t]}'s shape {returned[t]}" for t in tensors)
            gradient = f"d{tensors[0]}" if contract == "dlai" else f"grads[{tensors[0]!r}]"
            message = (
                f"given back in a weight's shape, {said}: a weight's gradient or state was applied to the "
                f"bias; check the line that updates it uses its own gradient ({gradient}) and state"
            )
        else:
            message = f"given back in another shape, {said}: check the line that updates it"
        others = {weights[t] for t in tensors if t in weights}
        out.append(
            Finding(
                kind,
                list(tensors),
                [{"array": t, "index": None} for t in tensors],
                others.pop() if kind == "other-parameter" and len(others) == 1 else None,
                None,
                None,
                max(int(t[1:]) for t in tensors),
                first,
                f"{listed}: {message}",
            )
        )
    return out


def _first(runs: list[OptimizerRun], k: int) -> dict[str, object]:
    for run in runs:
        if k < len(run.before):
            return {"init": run.init, "step": k + 1}
        k -= len(run.before)
    raise IndexError(k)


def _hyperparameters(kind: str, hyper: dict[str, tuple[float, str]], runs: list[OptimizerRun]) -> list[Finding]:
    """A default of the learner's own outside the usual values: the update may be right for it, and still wrong."""
    found = []
    for name, (value, origin) in hyper.items():
        usual = USUAL_VALUES.get(name)
        if origin != "yours" or usual is None or any(np.isclose(value, u, rtol=1e-12, atol=0) for u in usual):
            continue
        message = (
            f"your default {name} = {value:g} is not the usual {' or '.join(f'{u:g}' for u in usual)}: "
            "check the constant in your function's or class's signature"
        )
        first = _first(runs, 0) if any(len(run.before) for run in runs) else {"init": runs[0].init, "step": 1}
        found.append(Finding("hyperparameter", [name], [], None, None, value, None, first, message))
    return found


def _explain(
    kind: str,
    config: OptimizerConfig,
    arch: Architecture,
    runs: list[OptimizerRun],
    predicted: np.ndarray,
    threshold: float,
    conventions: dict[str, np.ndarray],
) -> tuple[list[Finding], set[str]]:
    """Per wrong tensor, the known mistake that reproduces every update, else what its updates show;
    and the conventions the mistakes found are written on. A mistake's first step is the first at
    which the learner parts from the convention it is written on; any other finding's, from the
    nearest convention. ``conventions``: each convention's distances from the learner's updates."""
    slices = tensor_slices(arch)
    with np.errstate(all="ignore"):
        nearest = relative_distance(np.concatenate([run.after for run in runs]), predicted, AUDIT_FLOOR)
    nearest = np.where(np.isnan(nearest), np.inf, nearest)
    wrong = {key: np.flatnonzero((nearest[:, cols] > threshold).any(axis=1)) for key, cols in slices.items()}
    wrong = {key: steps for key, steps in wrong.items() if len(steps)}
    bugs = {
        name: np.concatenate([_distance(run, replay(bug.form, config, arch, run)) for run in runs])
        for name, bug in OPTIMIZER_BUGS.items()
        if bug.optimizer == kind
    }
    before = np.concatenate([run.before for run in runs]).astype(np.float64)
    after = np.concatenate([run.after for run in runs]).astype(np.float64)
    right = predicted.astype(np.float64)
    groups: dict[tuple[str, str, float | None], list[str]] = {}
    firsts = {key: int(steps[0]) for key, steps in wrong.items()}
    bases: set[str] = set()
    # each mistake's wrong tensors, every update reproduced: one mistake for them all where one fits,
    # though another also fits some (t stuck at 1 is the layer number's mistake in layer 1)
    fits = {name: {key for key in wrong if (d[:, slices[key]] <= threshold).all()} for name, d in bugs.items()}
    for key, steps in wrong.items():
        cols = slices[key]
        fitting = sorted((name for name in bugs if key in fits[name]), key=lambda name: -len(fits[name]))
        if fitting:
            bug = OPTIMIZER_BUGS[fitting[0]]
            groups.setdefault((bug.kind, bug.description, None), []).append(key)
            base = base_convention(kind, bug.form)
            if base is not None:
                bases.add(base)
                parted = np.flatnonzero((conventions[base][:, cols] > threshold).any(axis=1))
                firsts[key] = int(parted[0]) if len(parted) else firsts[key]
            continue
        shape = _shape(before[:, cols], after[:, cols], right[:, cols], threshold, int(steps[0]))
        groups.setdefault(shape, []).append(key)
    out = []
    for (kind_, what, factor), tensors in groups.items():
        first = min(firsts[t] for t in tensors)
        listed = tensors[0] if len(tensors) == 1 else ", ".join(tensors[:-1]) + f" and {tensors[-1]}"
        out.append(
            Finding(
                kind_,
                list(tensors),
                [{"array": t, "index": None} for t in tensors],
                None,
                None,
                factor,
                max(int(t[1:]) for t in tensors),
                _first(runs, first),
                f"{listed}: {what}",
            )
        )
    return sorted(out, key=lambda f: (int(f.first["step"]), list(slices).index(f.parameters[0]))), bases


def _shape(
    before: np.ndarray, after: np.ndarray, right: np.ndarray, threshold: float, first: int
) -> tuple[str, str, float | None]:
    """A tensor no known mistake explains: not updated, up the gradient, a constant times the right
    step, or else wrong, with its first wrong value beside the convention's."""
    step, wanted = after - before, right - before
    if (step == 0).all():
        return ("not-updated", "never updated: the line that applies the step is missing or writes elsewhere", None)
    scale = np.maximum(np.abs(before), AUDIT_FLOOR)
    if (np.abs(step + wanted) <= threshold * scale).all():
        return ("sign", "updated up the gradient: w + step where w - step is meant", -1.0)
    norm = float(np.sum(wanted * wanted))
    c = float(np.sum(step * wanted)) / norm if norm > 0 else 0.0
    if c != 0.0 and np.isfinite(c) and (np.abs(step - c * wanted) <= threshold * scale).all():
        factor = float(f"{c:.4g}")
        return ("scaled", f"each update is {factor:g} x the convention's: check the learning rate's line", factor)
    i = int(np.argmax(np.abs(step[first] - wanted[first])))
    return (
        "wrong",
        f"no known mistake reproduces its updates; at its first wrong step, entry {i} became "
        f"{after[first, i]:.10g} where the convention gives {right[first, i]:.10g}",
        None,
    )
