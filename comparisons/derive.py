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

__all__ = ["derive_sheet"]


def _activation_slope(activation: str, output: sympy.Symbol) -> sympy.Expr:
    """dO/dz written in O, verified against the activation's definition."""
    z = sympy.Symbol("z")
    definition = {"linear": z, "sigmoid": 1 / (1 + sympy.exp(-z))}[activation]
    in_output = {"linear": sympy.Integer(1), "sigmoid": output * (1 - output)}[activation]
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
