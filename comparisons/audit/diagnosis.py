"""Say which line of a user's step is wrong: a per-parameter account of every update.

Teacher forcing: at every step the user's step and Keras start from the same
state (Keras's) and row, so each step is judged on its own and errors do not
compound. The user's implied gradient of a parameter is (old - new) / lr; the
true one is Keras's, taped at that state. Each parameter's updates, over every
step and init, are explained by the simplest hypothesis that fits them all:

    new = start - lr * c * source

- start: the parameter's own value, or another parameter's value before or
  after that one's update (``from-other-parameter``);
- source: the parameter's true gradient, another parameter's (``other-gradient``),
  either one computed with a later layer's weights already updated
  (``stale-weights``, by manual/'s backprop, which the harness proves equal to
  Keras), or nothing (``not-updated``);
- c: 1, or one constant for every step (``scaled``; ``sign`` when -1).

Simplest means fewest departures from the correct update; a parameter no
hypothesis explains is ``wrong``. The returned loss is checked first
(``forward``, ``loss-after-update``), since every update inherits a wrong
prediction. Pure numpy: the Keras side arrives as arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from comparisons.audit.findings import KINDS, Finding, ForcedSteps
from comparisons.audit.forced import Steps, allowance, loss_findings, stack, tolerance
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.network import Architecture, from_document_order, parameter_names
from manual.row.layerwise import backward, forward
from manual.row.losses import LOSSES

__all__ = ["deviates", "deviation_score", "diagnose", "gradient_distance"]


@dataclass(frozen=True)
class _Hypothesis:
    """For parameter ``param``: new = start - lr * c * source."""

    param: int
    start: tuple[str, int]  # ("own"|"before"|"after"|"after-true", parameter)
    source: tuple[str, int, int | None]  # ("true"|"zero"|"other"|"stale", parameter, layer)
    scaled: bool  # c fitted, else 1

    @property
    def complexity(self) -> int:
        """How many things are wrong with the update, if this hypothesis is the truth."""
        source, p, _ = self.source
        departures = (self.start[0] != "own") + (source != "true") + self.scaled
        return departures + (source == "stale" and p != self.param)  # another parameter's gradient, and stale


def gradient_distance(arch: Architecture, lr: float, dtype: str, forced: ForcedSteps) -> np.ndarray:
    """(K, P): |u - g| / (|g| + the step's largest true gradient), u = (old - new) / lr the
    implied gradient, g the true one: how far each update is from Keras's, in gradient space.
    It includes the rounding of new = old - lr u, which ``deviates`` allows for separately."""
    s = stack([forced])
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.abs((s.S - s.N) / lr - s.T) / (np.abs(s.T) + s.gscale[:, None])
    return np.where(np.isnan(distance), np.inf, distance)


def deviation_score(arch: Architecture, lr: float, dtype: str, forced: ForcedSteps) -> np.ndarray:
    """(K, P): |u - g| over the tolerance the diagnosis allows it: above 1, the update is not Keras's."""
    s = stack([forced])
    rtol, atol_eps = allowance(dtype)
    tol = tolerance(np.abs(s.T), s.gscale[:, None], s.S, s.N, lr, rtol, atol_eps)
    with np.errstate(invalid="ignore"):
        score = np.abs((s.S - s.N) / lr - s.T) / tol
    return np.where(np.isnan(score), np.inf, score)


def deviates(arch: Architecture, lr: float, dtype: str, forced: ForcedSteps) -> np.ndarray:
    """(K, 1 + P): where the returned loss, then each parameter's update, is not Keras's."""
    params = ~(deviation_score(arch, lr, dtype, forced) <= 1.0)
    loss = relative_distance(forced.user_loss, forced.keras_loss, AUDIT_FLOOR) > AUDIT_THRESHOLDS[dtype]
    return np.column_stack([loss, params])


def diagnose(arch: Architecture, lr: float, dtype: str, forced: list[ForcedSteps]) -> list[Finding]:
    """The ordered findings that explain every step of every init; [] when every update is right."""
    names = parameter_names(arch)
    stacked = stack(forced)
    wrong_params = np.concatenate([deviates(arch, lr, dtype, f) for f in forced])
    findings = loss_findings(dtype, forced, stacked, wrong_params[:, 0], _loss_after(arch, dtype, forced))
    explained: dict[tuple[Any, ...], tuple[list[int], int]] = {}
    firsts: dict[int, int] = {}  # each parameter's first wrong step
    stale = _stale_gradients(arch, forced)
    for j in range(len(names)):
        rows = np.flatnonzero(wrong_params[:, 1 + j])
        if not len(rows):
            continue
        firsts[j] = int(rows[0])
        for key, first in _explain(arch, j, stacked, stale, lr, dtype, firsts[j]):
            params, earliest = explained.get(key, ([], first))
            explained[key] = ([*params, j], min(earliest, first))
    for key, (params, first) in explained.items():
        findings.append(_finding(arch, key, params, stacked, first, lr, explained, firsts))
    head = [f for f in findings if f.kind in ("forward", "loss-after-update")]
    rest = sorted(
        (f for f in findings if f not in head),
        key=lambda f: (
            stacked.where.index((f.first["init"], f.first["epoch"], f.first["step"])),
            KINDS.index(f.kind),
            [n for _, _, n in names].index(f.parameters[0]),
        ),
    )
    return head + rest


def _loss_after(arch: Architecture, dtype: str, forced: list[ForcedSteps]) -> Callable[[int, np.ndarray], float]:
    """The loss at the parameters a step returned, on the same row, in the working dtype."""
    loss_fn = LOSSES[arch.loss]
    X = np.concatenate([f.X for f in forced])
    y = np.concatenate([f.y for f in forced])

    def after(k: int, new: np.ndarray) -> float:
        return float(loss_fn(y[k], forward(arch, from_document_order(arch, new.astype(dtype)), X[k])[-1])[0])

    return after


def _layer(arch: Architecture, j: int) -> int:
    return int(parameter_names(arch)[j][0][1:])


def _stale_gradients(arch: Architecture, forced: list[ForcedSteps]) -> dict[int, np.ndarray]:
    """Per later layer m: every gradient computed after a forward pass at the state, but
    backpropagated through the user's updated W_m (what a step that updates layer m
    first and then takes the earlier layers' gradients computes)."""
    names = parameter_names(arch)
    out = {}
    for m in range(2, arch.layers + 1):
        cols = [j for j, (key, _, _) in enumerate(names) if key == f"W{m}"]
        grads = []
        for f in forced:
            dtype = f.states.dtype
            for k in range(len(f.y)):
                state = from_document_order(arch, f.states[k])
                new_Wm = f.user_new[k, cols].reshape(state[f"W{m}"].shape).astype(dtype)
                outputs = forward(arch, state, f.X[k])
                g = backward(arch, {**state, f"W{m}": new_Wm}, outputs, f.y[k])
                grads.append([g[key][index] for key, index, _ in names])
        out[m] = np.array(grads, dtype=np.float64)
    return out


def _hypotheses(arch: Architecture, j: int) -> Iterator[_Hypothesis]:
    P = len(parameter_names(arch))
    others = [q for q in range(P) if q != j]
    # "after": q's new value as the step returns it; "after-true": as a correct update makes it
    # (a line meant for q writes into j, and q's own line is missing)
    starts = [("own", j)] + [(kind, q) for kind in ("before", "after", "after-true") for q in others]
    later = range(_layer(arch, j) + 1, arch.layers + 1)
    sources: list[tuple[str, int, int | None]] = [("true", j, None), ("zero", j, None)]
    sources += [("other", q, None) for q in others]
    sources += [("stale", j, m) for m in later]
    sources += [("stale", q, m) for m in later for q in others if _layer(arch, q) < m]
    candidates = [
        _Hypothesis(j, start, source, scaled)
        for source in sources
        for start in starts
        for scaled in (False, True)
        if not (source[0] == "zero" and scaled)
        if (start, source, scaled) != (("own", j), ("true", j, None), False)  # the correct update
    ]
    # a fitted factor last among equals: it can mimic "no update" with c ~ 0
    yield from sorted(candidates, key=lambda h: (h.complexity, h.scaled))


def _source(h: _Hypothesis, s: Steps, stale: dict[int, np.ndarray]) -> np.ndarray:
    source, p, m = h.source
    if source == "zero":
        return np.zeros(len(s.S))
    if source == "stale":
        assert m is not None
        return stale[m][:, p]
    return s.T[:, p]


def _start(h: _Hypothesis, s: Steps, lr: float) -> np.ndarray:
    kind, q = h.start
    if kind == "after-true":
        return s.S[:, q] - lr * s.T[:, q]
    return s.S[:, q] if kind in ("own", "before") else s.N[:, q]


def _fits(h: _Hypothesis, s: Steps, stale: dict[int, np.ndarray], lr: float, dtype: str) -> float | None:
    """The factor c with which the hypothesis explains every step of its parameter, or None."""
    j = h.param
    A = _start(h, s, lr)
    U = (A - s.N[:, j]) / lr
    G = _source(h, s, stale)
    c = 1.0
    if h.scaled:
        norm = float(np.dot(G, G))
        if not np.isfinite(norm) or norm == 0.0:
            return None
        c = float(np.dot(U, G)) / norm
        if not np.isfinite(c) or c == 0.0:
            return None
    rtol, atol_eps = allowance(dtype)
    tol = tolerance(np.abs(c * G), abs(c) * s.gscale, A, s.N[:, j], lr, rtol, atol_eps)
    return c if bool(np.all(np.abs(U - c * G) <= tol)) else None


def _first_difference(a: np.ndarray, b: np.ndarray, s: Steps, j: int, lr: float, dtype: str, fallback: int) -> int:
    """The first step at which the values a and b (gradients of parameter j's scale) differ, not before ``fallback``."""
    rtol, atol_eps = allowance(dtype)
    tol = tolerance(np.abs(b), s.gscale, s.S[:, j], s.N[:, j], lr, rtol, atol_eps)
    differ = np.flatnonzero(~(np.abs(a - b) <= tol))
    later = differ[differ >= fallback]
    return int(later[0]) if len(later) else fallback


def _explain(
    arch: Architecture, j: int, s: Steps, stale: dict[int, np.ndarray], lr: float, dtype: str, first: int
) -> list[tuple[tuple[Any, ...], int]]:
    """The simplest hypothesis for parameter j, as finding keys (kind, other, updated, factor, layer),
    each with the first step at which that part of the mistake shows."""
    for h in _hypotheses(arch, j):
        c = _fits(h, s, stale, lr, dtype)
        if c is None:
            continue
        keys: list[tuple[tuple[Any, ...], int]] = []
        start, q = h.start
        if start != "own":
            keys.append((("from-other-parameter", q, start != "before", None, None), first))
        source, p, m = h.source
        if source == "zero" and start == "own":
            keys.append((("not-updated", None, None, None, None), first))
        if p != j and source != "zero":
            at = _first_difference(s.T[:, p], s.T[:, j], s, j, lr, dtype, first)
            keys.append((("other-gradient", p, None, None, None), at))
        if source == "stale":
            assert m is not None
            at = _first_difference(stale[m][:, p], s.T[:, p], s, j, lr, dtype, first)
            keys.append((("stale-weights", None, None, None, m), at))
        if h.scaled:
            factor = float(f"{c:.4g}")
            key = ("sign", None, None, -1.0, None) if factor == -1.0 else ("scaled", None, None, factor, None)
            keys.append((key, first))
        return keys
    return [(("wrong", None, None, None, None), first)]


def _finding(
    arch: Architecture,
    key: tuple[Any, ...],
    params: list[int],
    s: Steps,
    first: int,
    lr: float,
    explained: dict[tuple[Any, ...], tuple[list[int], int]],
    firsts: dict[int, int],
) -> Finding:
    names = parameter_names(arch)
    kind, other, updated, factor, layer = key
    init, epoch, step = s.where[first]
    labels = [names[j][2] for j in params]
    listed = ", ".join(f"{names[j][2]} ({names[j][0]}[{', '.join(map(str, names[j][1]))}])" for j in params)
    other_name = None if other is None else names[other][2]
    if kind == "not-updated":
        message = (
            f"{listed}: never updated, though the gradient is not zero; "
            "the update line is missing, or writes into another parameter"
        )
    elif kind == "from-other-parameter":
        when = "after" if updated else "before"
        message = (
            f"{listed}: the new value starts from {other_name} ({when} its update) instead of from "
            f"{'its own' if len(params) == 1 else 'their own'} old value"
        )
    elif kind == "other-gradient":
        message = f"{listed}: updated with the gradient of {other_name}, an index swap or a mislabeled formula"
    elif kind == "stale-weights":
        message = (
            f"{listed}: the gradient is computed with W{layer} already updated; "
            "take every gradient from the same forward pass before updating any weight"
        )
    elif kind == "sign":
        message = f"{listed}: updated up the gradient (w + lr g where w - lr g is meant): gradient ascent"
    elif kind == "scaled":
        # every parameter the step updates at all carries this factor: it is the learning rate
        still = {j for k2, (ps, _) in explained.items() if k2[0] == "not-updated" for j in ps}
        everyone = set(params) | still == set(range(len(names)))
        if everyone:
            message = (
                f"{'every update' if not still else 'every update your step makes'} is {factor:g} x the right one: "
                "the effective learning rate is "
                f"{factor:g} x lr = {factor * lr:g}"
            )
            if factor == 0.5 and arch.loss == "mean_squared_error":
                message += "; on squared error that is the missing factor 2 of dL/dy_hat = -2(y - y_hat)"
        else:
            message = f"{listed}: each update is {factor:g} x the right one"
    else:
        j = next(p for p in params if firsts[p] == first)  # one that is wrong at the step named
        implied = (s.S[first, j] - s.N[first, j]) / lr
        message = (
            f"{listed}: no simple mistake explains the update; at init {init}, epoch {epoch}, step {step} "
            f"the implied gradient (old - new) / lr of {names[j][2]} is {implied:.6g}, the true one {s.T[first, j]:.6g}"
        )
    return Finding(
        kind=kind,
        parameters=labels,
        indices=[{"array": names[j][0], "index": list(names[j][1])} for j in params],
        other=other_name,
        updated=updated,
        factor=factor,
        layer=layer,
        first={"init": init, "epoch": epoch, "step": step},
        message=message,
    )
