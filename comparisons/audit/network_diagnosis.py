"""Say which line of a network's step is wrong: one finding per cause, in the learner's tensors.

Teacher forcing, as for the document's networks (diagnosis.py): every step starts
from Keras's state on Keras's batch, and the user's implied gradient
u = (old - new) / lr of each tensor is compared with Keras's taped one. The search
goes by tensor, not by scalar, in three rounds:

1. causes (causes.py): a whole backward pass with one piece wrong, a layer's
   slope, the output delta, a delta taken back through weights already updated
   or through a square W where W.T belongs. A cause is taken when it accounts
   for every tensor it changes; the one accounting for the most first, so a
   wrong slope in layer 2 is one finding for W1, b1, W2 and b2, not four;
2. each tensor still unexplained, on its own: not updated, summed over the
   batch or averaged twice, a bias summed over its units, one row of the batch,
   transposed, a neighbouring layer's gradient of the same shape, ascent, a
   constant factor; else wrong;
3. two mistakes at once: for what round 2 left wrong, a cause that changes only
   wrong tensors and accounts for some of them, beside round 2's slips.

Tensors that share an explanation share a finding. The cost is one backward
pass per cause per step, and a handful of comparisons per tensor: about linear
in the number of parameters. Pure numpy: the Keras side arrives as arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from comparisons.audit.causes import OWN_SLOPE, Cause, Gradients, causes, gradients
from comparisons.audit.diagnosis import deviates
from comparisons.audit.findings import KINDS, Finding, ForcedSteps
from comparisons.audit.forced import Steps, allowance, loss_findings, stack, tolerance
from manual.batch.training import batch_loss, forward, row_losses
from manual.network import Architecture, from_document_order, tensor_slices

__all__ = ["diagnose_network"]

Key = tuple[Any, ...]  # (kind, layer, factor, other, detail): tensors with the same key share a finding


class _Judge:
    """Whether a tensor's implied gradients are a candidate's, within the diagnosis's tolerance."""

    def __init__(self, arch: Architecture, s: Steps, lr: float, dtype: str) -> None:
        self.arch, self.s, self.lr = arch, s, lr
        self.slices = tensor_slices(arch)
        self.U = (s.S - s.N) / lr
        self.rtol, self.atol_eps = allowance(dtype)

    def _close(self, key: str, a: np.ndarray, b: np.ndarray, c: np.ndarray | float = 1.0) -> bool:
        cols, s = self.slices[key], self.s
        scale = np.abs(c) * np.ones(len(s.S))
        tol = tolerance(
            np.abs(b), (scale * s.gscale)[:, None], s.S[:, cols], s.N[:, cols], self.lr, self.rtol, self.atol_eps
        )
        return bool(np.all(np.abs(a - b) <= tol))

    def fits(self, key: str, G: np.ndarray, c: np.ndarray | float = 1.0) -> bool:
        """u = c g for this tensor at every step; g (N, P) or already the tensor's (N, size)."""
        g = G[:, self.slices[key]] if G.shape[1] != self._size(key) else G
        factor = c[:, None] if isinstance(c, np.ndarray) else c
        return self._close(key, self.U[:, self.slices[key]], factor * g, c)

    def differs(self, key: str, G: np.ndarray, right: np.ndarray) -> bool:
        cols = self.slices[key]
        return not self._close(key, G[:, cols], right[:, cols])

    def _size(self, key: str) -> int:
        cols = self.slices[key]
        return int(cols.stop - cols.start)


def diagnose_network(arch: Architecture, lr: float, dtype: str, forced: list[ForcedSteps]) -> list[Finding]:
    """The ordered findings that explain every step of every init; [] when every update is right."""
    s = stack(forced)
    wrong = np.concatenate([deviates(arch, lr, dtype, f) for f in forced])
    findings = loss_findings(dtype, forced, s, wrong[:, 0], _loss_after(arch, dtype, forced))
    judge = _Judge(arch, s, lr, dtype)
    firsts = {
        key: int(np.flatnonzero(wrong[:, 1:][:, cols].any(axis=1))[0])
        for key, cols in judge.slices.items()
        if wrong[:, 1:][:, cols].any()
    }
    if not firsts:
        return findings
    found = causes(arch)
    g = gradients(arch, forced, found)
    groups: dict[Key, list[str]] = {}
    wrong_tensors = [key for key in judge.slices if key in firsts]
    candidates = _candidates(judge, found, g, wrong_tensors)
    remaining = wrong_tensors
    for key, tensors in _by_cause(candidates, g, remaining, strict=True):
        groups.setdefault(key, []).extend(tensors)
        remaining = [t for t in remaining if t not in tensors]
    shapes = {tensor: _shape(judge, g, tensor) for tensor in remaining}
    unexplained = [t for t, key in shapes.items() if key[0] == "wrong"]
    # two mistakes at once: a cause for what no tensor's own slip explains, beside the slips that do
    for key, tensors in _by_cause(candidates, g, unexplained, strict=False):
        groups.setdefault(key, []).extend(tensors)
        shapes = {t: k for t, k in shapes.items() if t not in tensors}
    for tensor, key in shapes.items():
        groups.setdefault(key, []).append(tensor)
    findings += [_finding(arch, judge, key, tensors, firsts, lr) for key, tensors in groups.items()]
    head = [f for f in findings if f.kind in ("forward", "loss-after-update")]
    order = list(judge.slices)
    rest = sorted(
        (f for f in findings if f not in head),
        key=lambda f: (s.where.index(_where(f)), KINDS.index(f.kind), order.index(f.parameters[0])),
    )
    return head + rest


def _where(f: Finding) -> tuple[str, int, int]:
    return (f.first["init"], f.first["epoch"], f.first["step"])


def _loss_after(arch: Architecture, dtype: str, forced: list[ForcedSteps]) -> Callable[[int, np.ndarray], float]:
    """The batch's loss at the parameters a step returned, in the working dtype."""
    X = [x for f in forced for x in f.batch_x]
    Y = [y for f in forced for y in f.batch_y]

    def after(k: int, new: np.ndarray) -> float:
        params = from_document_order(arch, new.astype(dtype))
        outputs, z = forward(arch, params, np.asarray(X[k], dtype=dtype))
        return float(batch_loss(row_losses(arch.loss, np.asarray(Y[k], dtype=dtype), outputs[-1], z)))

    return after


_Candidate = tuple[Cause, list[str], list[str]]  # a cause, the tensors it changes, those of them it fits


def _candidates(judge: _Judge, found: list[Cause], g: Gradients, wrong: list[str]) -> list[_Candidate]:
    """The causes that change only wrong tensors and fit at least one of them."""
    out = []
    for cause, G in zip(found, g.by_cause, strict=True):
        changed = [key for key in judge.slices if judge.differs(key, G, g.right)]
        if changed and set(changed) <= set(wrong):
            fitted = [key for key in changed if judge.fits(key, G)]
            if fitted:
                out.append((cause, changed, fitted))
    return out


def _by_cause(
    candidates: list[_Candidate], g: Gradients, left: list[str], strict: bool
) -> Iterator[tuple[Key, list[str]]]:
    """Causes, most tensors of ``left`` explained first: each with those it explains. ``strict``: only
    causes that fit every tensor they change (one mistake explains them all)."""
    usable = [(c, fitted) for c, changed, fitted in candidates if not strict or fitted == changed]
    while usable:
        cause, fitted = max(usable, key=lambda c: sum(t in left for t in c[1]))  # the first of equals
        tensors = [t for t in fitted if t in left]
        if not tensors:
            return
        what = cause.what
        if cause.factor is not None and _is_batch_factor(cause.factor, g.batch):
            B = int(g.batch[0])
            what += (
                f" (or, every batch having {B} rows, the batch's {'sum' if cause.factor > 1 else 'mean taken twice'})"
            )
        yield (cause.kind, cause.layer, cause.factor, None, what), tensors
        left = [t for t in left if t not in tensors]


def _is_batch_factor(factor: float, batch: np.ndarray) -> bool:
    """Whether a constant factor is also every step's B, or 1/B: the two readings cannot be told apart."""
    return bool((batch > 1).all() and (np.all(factor == batch) or np.all(factor * batch == 1)))


def _shape(judge: _Judge, g: Gradients, key: str) -> Key:
    """One tensor's own slip on top of the right gradient, the simplest first."""
    T = judge.s.T
    layer = int(key[1:])  # where to look; the key leaves it out, so that every layer's same slip is one finding
    every_unit = None
    if key.startswith("b") and judge._size(key) > 1:
        cols = judge.slices[key]
        every_unit = np.repeat(T[:, cols].sum(axis=1, keepdims=True), judge._size(key), axis=1)
    if judge.fits(key, np.zeros_like(T)):
        # a softmax output's bias gradient sums to 0 over its units: np.sum(dZ) there is no update at all
        summed = every_unit is not None and judge.fits(key, every_unit)
        return ("not-updated", None, None, None, "or-all-axes" if summed else None)
    if every_unit is not None and judge.fits(key, every_unit):
        return ("batch-reduction", None, None, None, "all-axes")
    if (g.batch > 1).any():
        for factor, name in ((g.batch, "B"), (1 / g.batch, "1/B")):
            if judge.fits(key, T, factor):
                return ("batch-reduction", None, float(np.max(g.batch)) ** (1 if name == "B" else -1), None, name)
        for row, G in (("first", g.first_row), ("last", g.last_row)):
            for scale, name in ((np.ones(len(T)), "row"), (1 / g.batch, "row/B")):
                if judge.fits(key, G, scale):
                    return ("first-row-only", None, None, None, (row, name))
    shape = judge.arch.sizes[layer - 1 : layer + 1]
    if key.startswith("W") and shape[0] == shape[1]:
        n = shape[0]
        transposed = T[:, judge.slices[key]].reshape(-1, n, n).transpose(0, 2, 1).reshape(len(T), -1)
        if judge.fits(key, transposed):
            return ("transposed", None, None, None, None)
    for other in judge.slices:
        same = judge._size(other) == judge._size(key) and other[0] == key[0] and abs(int(other[1:]) - layer) == 1
        if same and judge.fits(key, T[:, judge.slices[other]]):
            return ("other-gradient", None, None, other, None)
    if judge.fits(key, T, -1.0):
        return ("sign", None, -1.0, None, None)
    U, G = judge.U[:, judge.slices[key]].ravel(), T[:, judge.slices[key]].ravel()
    norm = float(np.dot(G, G))
    c = float(np.dot(U, G)) / norm if norm > 0 and np.isfinite(norm) else 0.0
    # a fitted factor needs two gradients that are not zero to be tested at all: one it fits always
    if np.isfinite(c) and c != 0.0 and np.count_nonzero(G) > 1 and judge.fits(key, T, c):
        return ("scaled", None, float(f"{c:.4g}"), None, None)
    return ("wrong", None, None, None, None)


def _listed(tensors: list[str]) -> str:
    return tensors[0] if len(tensors) == 1 else ", ".join(tensors[:-1]) + f" and {tensors[-1]}"


def _finding(
    arch: Architecture,
    judge: _Judge,
    key: Key,
    tensors: list[str],
    firsts: dict[str, int],
    lr: float,
) -> Finding:
    kind, layer, factor, other, _ = key
    first = min(firsts[t] for t in tensors)
    init, epoch, step = judge.s.where[first]
    if layer is None:  # a tensor's own slip: its layer; shared across layers, the last, from which backprop carries it
        layer = max(int(t[1:]) for t in tensors)
    message = _message(arch, judge, key, tensors, first, firsts, lr)
    return Finding(
        kind=kind,
        parameters=list(tensors),
        indices=[{"array": t, "index": None} for t in tensors],
        other=other,
        updated=None,
        factor=factor,
        layer=layer,
        first={"init": init, "epoch": epoch, "step": step},
        message=message,
    )


def _message(
    arch: Architecture, judge: _Judge, key: Key, tensors: list[str], first: int, firsts: dict[str, int], lr: float
) -> str:
    kind, layer, factor, other, detail = key
    every = len(tensors) == len(judge.slices)
    listed = _listed(tensors)
    if kind == "activation-derivative":
        activation = arch.activations[layer - 1]
        own = OWN_SLOPE[activation].split(" (")[0]
        said = (
            "1 for negative inputs too (relu's slope is 0 there)"
            if activation == "relu" and detail[0] == "1"
            else detail
        )
        return (
            f"layer {layer} ({activation}): its delta multiplies by {said}, where {activation}'s slope is {own} "
            f"(O the layer's output); fix the slope in dZ{layer} = dA{layer} * slope; the gradients of "
            f"{listed} inherit it"
        )
    if kind == "loss-gradient":
        return (
            f"the output delta dL/dZ{layer} ({arch.loss} after {arch.activations[-1]}) is {detail}; "
            f"the gradients of {listed} inherit it"
        )
    if kind == "transposed" and detail is not None:  # a cause: backprop through W itself
        return (
            f"{listed}: the delta is taken back through W{layer} where W{layer}.T belongs (dA{layer - 1} = "
            f"dZ{layer} @ W{layer}.T); W{layer} is square, so the shapes did not catch it"
        )
    if kind == "stale-weights":
        return (
            f"{listed}: the delta is taken back through W{layer} already updated; "
            "take every gradient from the same forward pass before updating any weight"
        )
    if kind == "batch-reduction":
        once = "divide the output delta by the batch size once" if every else "divide by the batch size once"
        if detail == "all-axes":
            return (
                f"{listed}: summed over the layer's units as well as the batch's rows (np.sum(dZ) without "
                "axis=0): every unit gets the same update; sum over the rows alone, dZ.sum(axis=0)"
            )
        if detail == "B":
            return (
                f"{listed}: summed over the batch's rows where Keras's loss averages them: each update is B x the "
                f"right one (B = {factor:g} at a full batch); {once}"
            )
        return (
            f"{listed}: averaged over the batch twice: each update is 1/B x the right one (B = {1 / factor:g} "
            f"at a full batch); {once}"
        )
    if kind == "first-row-only":
        row, scale = detail
        return (
            f"{listed}: the gradient comes from the {row} row of the batch alone"
            f"{' divided by B' if scale == 'row/B' else ''}; sum over the batch's rows "
            "(A_prev.T @ dZ for a weight, dZ.sum(axis=0) for a bias)"
        )
    if kind == "transposed":
        return f"{listed}: the gradient is applied transposed; dW = A_prev.T @ dZ has W's own shape (n_in, n_out)"
    if kind == "not-updated":
        also = (
            " (or its gradient is summed over the units with np.sum(dZ), without axis=0: for a softmax "
            "output that sum is 0)"
            if detail == "or-all-axes"
            else ""
        )
        return f"{listed}: never updated, though the gradient is not zero; the update line is missing{also}"
    if kind == "other-gradient":
        return f"{listed}: updated with the gradient of {other}, a mislabeled or swapped update line"
    if kind == "sign":
        return f"{listed}: updated up the gradient (W + lr dW where W - lr dW is meant): gradient ascent"
    if kind == "scaled":
        if every:
            return (
                f"every update is {factor:g} x the right one: "
                f"the effective learning rate is {factor:g} x lr = {factor * lr:g}"
            )
        return f"{listed}: each update is {factor:g} x the right one"
    t = next(t for t in tensors if firsts[t] == first)  # one that is wrong at the step named
    cols = judge.slices[t]
    score = np.abs(judge.U[first, cols] - judge.s.T[first, cols])
    i = int(np.argmax(score))
    shape = dict(arch.shapes())[t]
    index = ", ".join(map(str, np.unravel_index(i, shape)))
    init, epoch, step = judge.s.where[first]
    return (
        f"{listed}: no simple mistake explains the update; at init {init}, epoch {epoch}, step {step} "
        f"the implied gradient (old - new) / lr of {t}[{index}] is {judge.U[first, cols][i]:.6g}, "
        f"the true one {judge.s.T[first, cols][i]:.6g}"
    )
