"""Check a sheet of gradient formulas, in the document's notation, against autodiff.

Each formula is evaluated at many random points of the chosen network (weights,
inputs, target) and compared with the true partial derivatives, computed two
independent ways: ``tf.GradientTape`` through the Keras model, and central finite
differences of the numpy forward pass in float64. The two must agree before
any verdict is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from comparisons.errors import InputError
from comparisons.formulas.gradients import environment, points, true_gradients
from comparisons.formulas.latex import Formula, Node
from comparisons.formulas.sheet import PageAudit, Sheet, SheetAudit, Verdict, no_formula_read
from comparisons.problems import PROBLEMS
from manual import Architecture, parameter_names

__all__ = ["audit_page", "audit_sheet", "evaluate", "network_title"]

_MATCH_RTOL = 1e-7  # float64 formulas against float64 autodiff agree to ~1e-15; a wrong one is off by O(1)


_CALLS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log,
    "exp": np.exp,
    "sigma": lambda z: 1 / (1 + np.exp(-z)),
}


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "pow": np.power,
    "gt": lambda a, b: np.greater(a, b).astype(np.float64),  # the indicator 1[a > b]
}


def evaluate(node: Node, env: dict[str, np.ndarray], line: int) -> np.ndarray:
    """The expression's value at every point; an unknown quantity is bad input, named by line and column."""
    kind = str(node[0])
    if kind == "num":
        return np.full(len(env["y"]), node[1], dtype=np.float64)
    if kind == "sym":
        name = str(node[1])
        if name not in env:
            raise InputError(f"line {line}, column {node[2]}: the network has no quantity {name}")
        return env[name]
    operands = [evaluate(child, env, line) for child in node[1:] if isinstance(child, tuple)]
    with np.errstate(all="ignore"):
        if kind == "neg":
            return -operands[0]
        if kind == "call":
            return np.asarray(_CALLS[str(node[1])](operands[0]))
        return np.asarray(_BINARY[kind](operands[0], operands[1]))


def _close(value: np.ndarray, truth: np.ndarray) -> bool:
    return bool(
        np.all(np.isfinite(value)) and np.allclose(value, truth, rtol=_MATCH_RTOL, atol=1e-12 * np.abs(truth).max())
    )


def _verdict(formula: Formula, value: np.ndarray, truth: dict[str, np.ndarray]) -> Verdict:
    label = formula.label
    if label in truth and _close(value, truth[label]):
        return Verdict(formula.line, label, "correct")
    other = next((name for name in truth if name != label and _close(value, truth[name])), None)
    if other is not None:
        return Verdict(formula.line, label, "mislabeled", actual=other)
    if label not in truth:
        return Verdict(formula.line, label, "unknown-parameter")
    if _close(-value, truth[label]):
        return Verdict(formula.line, label, "sign")
    with np.errstate(all="ignore"):
        ratio = float(np.median(value / truth[label]))
    factor = float(f"{ratio:.6g}")
    if np.isfinite(factor) and factor not in (0.0, 1.0, -1.0) and _close(value, factor * truth[label]):
        return Verdict(formula.line, label, "factor", factor=factor)
    return Verdict(formula.line, label, "wrong")


def _skipped(sheet: Sheet, position: int, reason: str, label: str | None = None) -> Verdict:
    cell, line = sheet.place(position)
    return Verdict(line, label, "skipped", cell=cell, reason=reason)


def audit_sheet(
    sheet: Sheet, network: str | Architecture, seed: int = 0, formulas: list[Formula] | None = None
) -> SheetAudit:
    """Every formula (``formulas``: only these of the sheet's) against the network's true
    gradients at many random points; lines that could not be read come back as skipped.
    ``network``: one of the document's by name, or any dense network with one output."""
    arch = PROBLEMS[network].arch if isinstance(network, str) else network
    if not isinstance(network, str):
        network = network_title(arch)
    chosen = sheet.formulas if formulas is None else formulas
    params, X, y = points(arch, seed)
    env = environment(arch, params, X, y)
    readable, values, verdicts = [], [], {}
    for f in chosen:  # every quantity checked before any TensorFlow
        try:
            values.append(evaluate(f.expression, env, f.line))
            readable.append(f)
        except InputError as error:  # a quantity this network does not have
            verdicts[f.line] = _skipped(sheet, f.line, str(error).split(", ", 1)[1], f.label)  # from "column"
    truth = true_gradients(arch, params, X, y) if readable else {}
    for f, value in zip(readable, values, strict=True):
        cell, line = sheet.place(f.line)
        verdicts[f.line] = replace(_verdict(f, value, truth), line=line, cell=cell)
    if formulas is None:
        for position, reason in sheet.skipped:
            verdicts[position] = _skipped(sheet, position, reason)
    ordered = [verdicts[position] for position in sorted(verdicts)]
    if formulas is None and not readable:  # every formula uses a quantity this network does not have
        raise no_formula_read(sheet, _unread(ordered), f"the {network} network's")
    correct = {v.parameter for v in ordered if v.verdict == "correct"}
    labels = [v.parameter for v in ordered if v.verdict != "skipped"]
    order = [name for _, _, name in parameter_names(arch)]
    missing = [name for name in order if name not in correct]
    duplicates = list(dict.fromkeys(label for label in labels if label is not None and labels.count(label) > 1))
    return SheetAudit(network, ordered, missing, duplicates)


def network_title(arch: Architecture) -> str:
    """``3-4-1 tanh,sigmoid binary_crossentropy``: how a sheet's audit names a network of the user's."""
    return f"{'-'.join(map(str, arch.sizes))} {','.join(arch.activations)} {arch.loss}"


BLOCK_GAP = 3  # this many non-blank lines without a formula between two formulas end a block


def _blocks(sheet: Sheet) -> list[list[Formula]]:
    blocks: list[list[Formula]] = []
    last: Formula | None = None
    for f in sheet.formulas:
        between = [] if last is None else [t for t in sheet.texts[last.line : f.line - 1] if t.strip()]
        if last is None or len(between) >= BLOCK_GAP:
            blocks.append([])
        blocks[-1].append(f)
        last = f
    return blocks


def audit_page(sheet: Sheet, seed: int = 0) -> PageAudit:
    """``--network auto``: split the sheet into blocks of consecutive formulas and audit each
    against the network under which most of its formulas are correct (the first on a tie)."""
    blocks, read = [], False
    for block in _blocks(sheet):
        candidates = [audit_sheet(sheet, network, seed, block) for network in PROBLEMS]
        blocks.append(max(candidates, key=lambda a: sum(v.verdict == "correct" for v in a.lines)))
        read = read or any(v.verdict != "skipped" for a in candidates for v in a.lines)
    skipped = [_skipped(sheet, position, reason) for position, reason in sheet.skipped]
    if not read:  # every formula uses a quantity none of the document's networks has
        unread = sorted([v for b in blocks for v in b.lines] + skipped, key=lambda v: (v.cell or 0, v.line))
        raise no_formula_read(sheet, _unread(unread), "any of the document's networks'")
    return PageAudit(blocks, skipped)


def _unread(skipped: list[Verdict]) -> list[tuple[int | None, int, str]]:
    return [(v.cell, v.line, v.reason or "") for v in skipped]
