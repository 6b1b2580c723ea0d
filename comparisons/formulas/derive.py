"""The correct formula sheet for a network, derived symbolically with sympy.

Backpropagation done by sympy, one local derivative at a time, in the document's
quantities: dL/dy_hat from the loss, each activation's derivative written in its
output (O(1 - O) for the sigmoid, checked by sympy against the definition), and
the derivatives of each neuron's weighted sum. Each gradient is printed as the
document prints it: a product of those factors joined by \\cdot.
"""

from __future__ import annotations

import sympy

from comparisons.problems import PROBLEMS
from manual import Architecture

__all__ = ["derive_network_sheet", "derive_sheet"]


def _activation_slope(activation: str, output: sympy.Symbol) -> sympy.Expr:
    """dO/dz written in O, verified against the activation's definition."""
    z = sympy.Symbol("z")
    definition = {"linear": z, "sigmoid": 1 / (1 + sympy.exp(-z)), "tanh": sympy.tanh(z)}[activation]
    in_output = {"linear": sympy.Integer(1), "sigmoid": output * (1 - output), "tanh": 1 - output**2}[activation]
    assert sympy.simplify(sympy.diff(definition, z) - in_output.subs(output, definition)) == 0
    return in_output


def _loss(loss: str, y: sympy.Symbol, y_hat: sympy.Symbol) -> sympy.Expr:
    return {
        "mean_squared_error": (y - y_hat) ** 2,
        "binary_crossentropy": -y * sympy.log(y_hat) - (1 - y) * sympy.log(1 - y_hat),
    }[loss]


def derive_sheet(network: str) -> str:
    arch = PROBLEMS[network].arch
    if arch.sizes != (2, 2, 1):
        raise ValueError("derived sheets are written for the document's 2-2-1 network")
    y, y_hat = sympy.Symbol("y"), sympy.Symbol(r"\hat{y}")
    x = [sympy.Symbol(r"x_{i1}"), sympy.Symbol(r"x_{i2}")]
    O_1 = [sympy.Symbol(r"O_{11}"), sympy.Symbol(r"O_{12}")]  # the hidden neurons' outputs
    w1 = {(i, j): sympy.Symbol(f"w^{{1}}_{{{i + 1}{j + 1}}}") for i in range(2) for j in range(2)}
    b1 = [sympy.Symbol(r"b_{11}"), sympy.Symbol(r"b_{12}")]
    w2 = [sympy.Symbol(r"w^{2}_{11}"), sympy.Symbol(r"w^{2}_{21}")]
    b2 = sympy.Symbol(r"b_{21}")
    z2 = w2[0] * O_1[0] + w2[1] * O_1[1] + b2
    z1 = [w1[(0, j)] * x[0] + w1[(1, j)] * x[1] + b1[j] for j in range(2)]

    delta2 = sympy.simplify(
        sympy.diff(_loss(arch.loss, y, y_hat), y_hat) * _activation_slope(arch.activations[1], y_hat)
    )
    coefficient = sympy.simplify(delta2 / (y - y_hat))
    sign = {-1: "-", 1: ""}.get(coefficient, sympy.latex(coefficient)) if coefficient.is_number else None
    error = sympy.latex(delta2) if sign is None else rf"{sign}\left(y - \hat{{y}}\right)"

    def product(factors: list[sympy.Expr]) -> str:
        return r" \cdot ".join([error] + [sympy.latex(f) for f in factors if f != 1])

    gradients: dict[str, str] = {}
    for j in range(2):
        gradients[f"w^2_{j + 1}1"] = product([sympy.diff(z2, w2[j])])
    gradients["b_21"] = product([sympy.diff(z2, b2)])
    for j in range(2):
        through = [sympy.diff(z2, O_1[j]), _activation_slope(arch.activations[0], O_1[j])]
        for i in range(2):
            gradients[f"w^1_{i + 1}{j + 1}"] = product([*through, sympy.diff(z1[j], w1[(i, j)])])
        gradients[f"b_1{j + 1}"] = product([*through, sympy.diff(z1[j], b1[j])])

    lines = [f"% dL/dparameter for the document's {network} network, derived by sympy"]
    for name, gradient in gradients.items():  # the document's order: output layer, then each hidden neuron
        layer_index = name.split("_")
        lines.append(rf"\frac{{\partial L}}{{\partial {layer_index[0]}_{{{layer_index[1]}}}}} = {gradient}")
    return "\n".join(lines) + "\n"


# Each activation's derivative written in its output O, as a sheet writes it (None: identically 1).
# sigmoid and tanh are checked by sympy against their definitions (_activation_slope); relu's is
# 1 where z > 0, which is where its output O = max(z, 0) is above 0.
_SLOPES = {
    "linear": None,
    "sigmoid": r"{O}\left(1 - {O}\right)",
    "tanh": r"\left(1 - {O}^{{2}}\right)",
    "relu": r"\mathbb{{1}}[{O} > 0]",
}
_DOT = r" \cdot "
_ERRORS = {"mean_squared_error": r"-2\left(y - \hat{y}\right)", "binary_crossentropy": r"-\left(y - \hat{y}\right)"}


def derive_network_sheet(arch: Architecture, title: str) -> str:
    """The sheet of any dense network with one output, by the chain rule one layer at a time:
    delta_L = dL/dy_hat times the output's slope (through the logits for a sigmoid with binary
    cross-entropy), delta_kj = (sum over m of w^{k+1}_{jm} delta_{k+1,m}) times O_kj's slope;
    dL/dw^k_{ij} = delta_kj O_{k-1,i} (x_{ii} at the input) and dL/db_kj = delta_kj. Each
    gradient is printed as the document prints one: its factors joined by \\cdot, a sum
    over the next layer's neurons in parentheses."""
    for activation in set(arch.activations) - {"relu"}:
        _activation_slope(activation, sympy.Symbol("O"))  # the written slopes, checked
    L = arch.layers

    def slope(k: int, j: int) -> list[str]:
        written = _SLOPES[arch.activations[k - 1]]
        name = r"\hat{y}" if k == L else f"O_{{{k}{j + 1}}}"
        return [] if written is None else [written.format(O=name)]

    error = _ERRORS[arch.loss]  # dL/dy_hat, common to every gradient: written once, first
    # the chain after it, from the output down to neuron j of layer k
    chains: dict[tuple[int, int], list[str]] = {(L, 0): [] if arch.loss == "binary_crossentropy" else slope(L, 0)}
    for k in range(L - 1, 0, -1):
        for j in range(arch.sizes[k]):
            terms = [[*chains[k + 1, m], f"w^{{{k + 1}}}_{{{j + 1}{m + 1}}}"] for m in range(arch.sizes[k + 1])]
            total = " + ".join(_DOT.join(term) for term in terms)
            chains[k, j] = [*(terms[0] if len(terms) == 1 else [rf"\left({total}\right)"]), *slope(k, j)]
    lines = [f"% dL/dparameter for {title}, derived layer by layer"]
    for k in range(L, 0, -1):  # the document's order: the output layer first
        for j in range(arch.sizes[k]):
            for i in range(arch.sizes[k - 1]):
                source = f"x_{{i{i + 1}}}" if k == 1 else f"O_{{{k - 1}{i + 1}}}"
                gradient = _DOT.join([error, *chains[k, j], source])
                lines.append(rf"\frac{{\partial L}}{{\partial w^{{{k}}}_{{{i + 1}{j + 1}}}}} = {gradient}")
            bias = _DOT.join([error, *chains[k, j]])
            lines.append(rf"\frac{{\partial L}}{{\partial b_{{{k}{j + 1}}}}} = {bias}")
    return "\n".join(lines) + "\n"
