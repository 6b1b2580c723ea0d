"""Check a sheet of gradient formulas, in the document's notation, against autodiff.

Each formula is evaluated at many random points of the chosen network (weights,
inputs, target) and compared with the true partial derivatives, computed two
independent ways: ``tf.GradientTape`` through the Keras model, and central finite
differences of the numpy forward pass in float64. The two must agree before
any verdict is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from comparisons import cache
from comparisons.cache import data_hash
from comparisons.errors import InputError
from comparisons.latex import MENTIONS_DERIVATIVE, Formula, FormulaSyntaxError, Node, parse_formula
from comparisons.notebook import NotebookError, notebook_sources
from comparisons.problems import PROBLEMS
from manual import Architecture, Params, from_keras_weights, in_document_order, parameter_names, to_keras_weights
from manual.layerwise import forward
from manual.losses import LOSSES
from reference import runner
from reference.protocol import unnumbered

__all__ = [
    "POINTS",
    "PageAudit",
    "Sheet",
    "SheetAudit",
    "Verdict",
    "audit_page",
    "audit_sheet",
    "evaluate",
    "finite_differences",
    "network_title",
    "read_sheet",
    "true_gradients",
]

POINTS = 64
_MATCH_RTOL = 1e-7  # float64 formulas against float64 autodiff agree to ~1e-15; a wrong one is off by O(1)
_FD_RTOL = 1e-5  # central differences with h ~ 1e-6 are good to ~1e-9 here


@dataclass(frozen=True)
class Verdict:
    line: int  # 1-based, in the file, or in the notebook's cell
    parameter: str | None  # None: a skipped line whose label could not be read
    verdict: str  # correct | mislabeled | sign | factor | wrong | unknown-parameter | skipped
    actual: str | None = None  # mislabeled: the parameter whose derivative it really is
    factor: float | None = None  # factor: expression = factor * true derivative
    cell: int | None = None  # a notebook's cell, 1-based among all its cells
    reason: str | None = None  # skipped: why the line could not be read

    @property
    def where(self) -> str:
        return str(self.line) if self.cell is None else f"cell {self.cell}, line {self.line}"

    @property
    def detail(self) -> str:
        if self.verdict == "mislabeled":
            return f"this is dL/d{self.actual}"
        if self.verdict == "factor":
            return f"{self.factor:g} times the true derivative"
        if self.verdict == "sign":
            return "the true derivative with the opposite sign"
        if self.verdict == "unknown-parameter":
            return f"the network has no parameter {self.parameter}"
        if self.verdict == "wrong":
            return "not the derivative of any parameter, up to sign or factor"
        if self.verdict == "skipped":
            return f"not read: {self.reason}"
        return ""

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"line": self.line, "parameter": self.parameter, "verdict": self.verdict}
        for key in ("cell", "actual", "factor", "reason"):
            if getattr(self, key) is not None:
                entry[key] = getattr(self, key)
        return entry


@dataclass(frozen=True)
class SheetAudit:
    network: str
    lines: list[Verdict]  # in the sheet's order, skipped lines included
    missing: list[str]
    duplicates: list[str]

    @property
    def clean(self) -> bool:
        return all(v.verdict == "correct" for v in self.lines) and not self.missing

    @property
    def span(self) -> str:
        return f"{self.lines[0].where} to {self.lines[-1].where}" if self.lines else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "lines": [v.as_json() for v in self.lines],
            "missing": self.missing,
            "duplicates": self.duplicates,
        }

    def summary(self) -> str:
        formulas = [v for v in self.lines if v.verdict != "skipped"]
        correct = sum(v.verdict == "correct" for v in formulas)
        summary = f"{correct} of {len(formulas)} formulas correct for the {self.network} network"
        summary += f"; missing: {', '.join(self.missing) if self.missing else 'none'}"
        summary += f"; labelled twice: {', '.join(self.duplicates) if self.duplicates else 'none'}"
        skipped = len(self.lines) - len(formulas)
        return summary + (f"; skipped: {skipped} line{'s' if skipped > 1 else ''}" if skipped else "")

    def as_text(self) -> str:
        return "\n".join([*_table(self.lines), self.summary()])


def _table(lines: list[Verdict], networks: list[str] | None = None) -> list[str]:
    header = ["line", *(["network"] if networks is not None else []), "parameter", "verdict", "detail"]
    rows = [header]
    for n, v in enumerate(lines):
        named = [networks[n]] if networks is not None else []
        rows.append([v.where, *named, v.parameter or "", v.verdict, v.detail])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


@dataclass(frozen=True)
class PageAudit:
    """``--network auto``: each block of consecutive formulas against the network that fits it best."""

    blocks: list[SheetAudit]
    skipped: list[Verdict]  # the lines that mention a derivative but could not be read

    @property
    def clean(self) -> bool:
        return all(b.clean for b in self.blocks) and not self.skipped

    def as_json(self) -> dict[str, Any]:
        return {
            "network": "auto",
            "blocks": [b.as_json() for b in self.blocks],
            "skipped": [v.as_json() for v in self.skipped],
        }

    def as_text(self) -> str:
        ordered = sorted(
            [(v, b.network) for b in self.blocks for v in b.lines] + [(v, "") for v in self.skipped],
            key=lambda pair: (pair[0].cell or 0, pair[0].line),
        )
        lines = _table([v for v, _ in ordered], [network for _, network in ordered])
        for n, block in enumerate(self.blocks, start=1):
            lines.append(f"block {n} (lines {block.span}): {block.summary()}")
        if self.skipped:
            one = len(self.skipped) == 1
            lines.append(
                f"skipped: {len(self.skipped)} line{'' if one else 's'} that mention{'s' if one else ''} "
                "a derivative but could not be read"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Sheet:
    """A sheet's formulas and the lines that mention a derivative but could not be read."""

    formulas: list[Formula]  # Formula.line: the position among the sheet's lines, 1-based
    skipped: list[tuple[int, str]]  # (position, reason)
    texts: list[str]  # every line of the sheet
    places: list[tuple[int | None, int]]  # per position: (notebook cell or None, line in file or cell)

    def place(self, position: int) -> tuple[int | None, int]:
        return self.places[position - 1]


def _sheet_lines(path: Path) -> list[tuple[int | None, int, str]]:
    """(cell, line, text) of every line: a text file's, or a notebook's markdown cells'."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (not UTF-8)") from None
    if path.suffix != ".ipynb":
        return [(None, number, line) for number, line in enumerate(text.splitlines(), start=1)]
    try:
        cells = notebook_sources(text, "markdown")
    except NotebookError as error:
        raise InputError(f"{path}: {error}") from None
    return [(number, n, line) for number, source in cells for n, line in enumerate(source.splitlines(), start=1)]


def read_sheet(path: Path) -> Sheet:
    """Every formula of a text, Markdown or notebook file; a line that mentions a derivative
    but cannot be read is kept as skipped, with the reason, never silently dropped."""
    lines = _sheet_lines(path)
    formulas, skipped = [], []
    for position, (_, _, text) in enumerate(lines, start=1):
        try:
            formula = parse_formula(text, position)
        except FormulaSyntaxError as error:
            skipped.append((position, f"cannot read the formula: {error}"))
            continue
        if formula is not None:
            formulas.append(formula)
        elif MENTIONS_DERIVATIVE.search(text) and not text.lstrip().startswith("%"):  # a LaTeX comment is prose
            skipped.append((position, "not of the form \\frac{\\partial L}{\\partial PARAMETER} = EXPRESSION"))
    if not formulas and not skipped:
        raise InputError(f"{path}: no formula of the form \\frac{{\\partial L}}{{\\partial PARAMETER}} = ...")
    return Sheet(formulas, skipped, [text for _, _, text in lines], [(cell, line) for cell, line, _ in lines])


def _points(arch: Architecture, seed: int) -> tuple[list[Params], np.ndarray, np.ndarray]:
    """Random weights (N(0, 0.8^2)), inputs (U(-2, 2)) and targets: continuous, so no
    coincidence of a wrong formula with the right one at y in {0, 1}."""
    rng = np.random.default_rng(seed)
    params = [{key: rng.normal(0.0, 0.8, size=shape) for key, shape in arch.shapes()} for _ in range(POINTS)]
    X = rng.uniform(-2.0, 2.0, size=(POINTS, arch.sizes[0]))
    y = (
        rng.uniform(0.05, 0.95, size=POINTS)
        if arch.loss == "binary_crossentropy"
        else rng.normal(0.0, 2.0, size=POINTS)
    )
    return params, X, y


def _environment(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    names = parameter_names(arch)
    env: dict[str, np.ndarray] = {name: np.array([p[key][index] for p in params]) for key, index, name in names}
    outputs = [forward(arch, p, x) for p, x in zip(params, X, strict=True)]
    for k in range(1, arch.layers + 1):
        for j in range(arch.sizes[k]):
            env[f"O_{k}{j + 1}"] = np.array([o[k][j] for o in outputs])
    env["y_hat"] = env[f"O_{arch.layers}1"]
    for i in range(arch.sizes[0]):
        env[f"x_{i + 1}"] = X[:, i]
    env["y"] = y
    return env


def true_gradients(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """dL/dparameter at every point by tf.GradientTape, checked against central differences."""

    names = parameter_names(arch)
    states = [np.stack(weights) for weights in zip(*(to_keras_weights(arch, p) for p in params), strict=True)]

    def compute() -> dict[str, np.ndarray]:
        job = {"sizes": list(arch.sizes), "activations": list(arch.activations), "loss": arch.loss}
        stacked = unnumbered("g", runner.run("gradients", **job, states=states, X=X, y=y))
        return {
            "tape": np.array(
                [in_document_order(arch, from_keras_weights(arch, [g[k] for g in stacked])) for k in range(len(params))]
            )
        }

    settings = {
        "sizes": arch.sizes,
        "activations": arch.activations,
        "loss": arch.loss,
        "inputs": data_hash(X, y, *states),
    }
    tape = cache.fetch("keras-gradients", settings, compute)["tape"]
    fd = finite_differences(arch, params, X, y)
    if not np.allclose(tape, fd, rtol=_FD_RTOL, atol=_FD_RTOL * np.abs(tape).max()):
        raise AssertionError("autodiff and finite differences disagree: the reference itself is broken")
    return {name: tape[:, j] for j, (_, _, name) in enumerate(names)}


def finite_differences(arch: Architecture, params: list[Params], X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dparameter (points x parameters, document order) by central differences of the numpy forward pass."""
    loss = LOSSES[arch.loss]

    def L(p: Params, x: np.ndarray, t: float) -> float:
        return float(loss(t, forward(arch, p, x)[-1])[0])

    rows = []
    for p, x, t in zip(params, X, y, strict=True):
        row = []
        for key, index, _ in parameter_names(arch):
            h = 1e-6 * max(1.0, abs(p[key][index]))
            up = {k: v.copy() for k, v in p.items()}
            down = {k: v.copy() for k, v in p.items()}
            up[key][index] += h
            down[key][index] -= h
            row.append((L(up, x, t) - L(down, x, t)) / (2 * h))
        rows.append(row)
    return np.array(rows)


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
    params, X, y = _points(arch, seed)
    env = _environment(arch, params, X, y)
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
    blocks = []
    for block in _blocks(sheet):
        candidates = [audit_sheet(sheet, network, seed, block) for network in PROBLEMS]
        blocks.append(max(candidates, key=lambda a: sum(v.verdict == "correct" for v in a.lines)))
    return PageAudit(blocks, [_skipped(sheet, position, reason) for position, reason in sheet.skipped])
