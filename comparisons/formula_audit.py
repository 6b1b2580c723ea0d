"""Check a sheet of gradient formulas, in the document's notation, against autodiff.

Each formula is evaluated at many random points of the chosen network (weights,
inputs, target) and compared with the true partial derivatives, computed two
independent ways: ``tf.GradientTape`` through the Keras model, and central finite
differences of the numpy forward pass in float64. The two must agree before
any verdict is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from comparisons import cache
from comparisons.cache import data_hash
from comparisons.errors import InputError
from comparisons.latex import Formula, FormulaSyntaxError, Node, parse_formula
from comparisons.problems import PROBLEMS
from manual import Architecture, Params, from_keras_weights, in_document_order, parameter_names, to_keras_weights
from manual.layerwise import forward
from manual.losses import LOSSES

__all__ = [
    "POINTS",
    "SheetAudit",
    "Verdict",
    "audit_sheet",
    "evaluate",
    "finite_differences",
    "read_sheet",
    "true_gradients",
]

POINTS = 64
_MATCH_RTOL = 1e-7  # float64 formulas against float64 autodiff agree to ~1e-15; a wrong one is off by O(1)
_FD_RTOL = 1e-5  # central differences with h ~ 1e-6 are good to ~1e-9 here


@dataclass(frozen=True)
class Verdict:
    line: int
    parameter: str
    verdict: str  # correct | mislabeled | sign | factor | wrong | unknown-parameter
    actual: str | None = None  # mislabeled: the parameter whose derivative it really is
    factor: float | None = None  # factor: expression = factor * true derivative

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
        return ""


@dataclass(frozen=True)
class SheetAudit:
    network: str
    lines: list[Verdict]
    missing: list[str]
    duplicates: list[str]

    @property
    def clean(self) -> bool:
        return all(v.verdict == "correct" for v in self.lines) and not self.missing

    def as_json(self) -> dict[str, Any]:
        lines = []
        for v in self.lines:
            entry: dict[str, Any] = {"line": v.line, "parameter": v.parameter, "verdict": v.verdict}
            if v.actual is not None:
                entry["actual"] = v.actual
            if v.factor is not None:
                entry["factor"] = v.factor
            lines.append(entry)
        return {"network": self.network, "lines": lines, "missing": self.missing, "duplicates": self.duplicates}

    def as_text(self) -> str:
        rows = [["line", "parameter", "verdict", "detail"]]
        rows += [[str(v.line), v.parameter, v.verdict, v.detail] for v in self.lines]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        table = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        correct = sum(v.verdict == "correct" for v in self.lines)
        summary = f"{correct} of {len(self.lines)} formulas correct for the {self.network} network"
        summary += f"; missing: {', '.join(self.missing) if self.missing else 'none'}"
        summary += f"; labelled twice: {', '.join(self.duplicates) if self.duplicates else 'none'}"
        return "\n".join([*table, summary])


def read_sheet(path: Path) -> list[Formula]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (not UTF-8)") from None
    formulas = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            formula = parse_formula(line, number)
        except FormulaSyntaxError as error:
            raise InputError(f"{path}: line {number}: cannot read the formula: {error}") from None
        if formula is not None:
            formulas.append(formula)
    if not formulas:
        raise InputError(f"{path}: no formula of the form \\frac{{\\partial L}}{{\\partial PARAMETER}} = ...")
    return formulas


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
        import reference

        model = reference.build_model(arch.sizes, arch.activations, arch.loss, "float64", 0.1)
        stacked = reference.gradients_at(model, states, X, y)
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


_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}


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


def audit_sheet(formulas: list[Formula], network: str, seed: int = 0) -> SheetAudit:
    arch = PROBLEMS[network].arch
    params, X, y = _points(arch, seed)
    env = _environment(arch, params, X, y)
    values = [evaluate(f.expression, env, f.line) for f in formulas]  # refuse bad sheets before any TensorFlow
    truth = true_gradients(arch, params, X, y)
    verdicts = [_verdict(f, v, truth) for f, v in zip(formulas, values, strict=True)]
    correct = {v.parameter for v in verdicts if v.verdict == "correct"}
    labels = [v.parameter for v in verdicts]
    order = [name for _, _, name in parameter_names(arch)]
    missing = [name for name in order if name not in correct]
    duplicates = list(dict.fromkeys(label for label in labels if labels.count(label) > 1))
    return SheetAudit(network, verdicts, missing, duplicates)
