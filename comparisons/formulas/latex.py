"""A small, safe reader for gradient formulas written as the document writes them.

``\\frac{\\partial L}{\\partial w^2_{11}} = -2(y - \\hat{y})\\cdot O_{11}`` becomes a label
(``w^2_11``) and an expression tree of numbers, quantities, + - * / ^, and
log/ln/exp/sigma. Nothing is ever evaluated as code: the tokenizer knows a
fixed set of symbols and commands and refuses everything else, naming the
position (1-based column in the line).

Notation: \\frac, \\dfrac or \\tfrac of the loss (L, J, E, C or \\mathcal{L}) by \\partial or d;
parameters w^k_{ij} (also w_{ij}^{k}, w^{k}_{ij}, w^{[k]}_{ij}) and b_{kj};
quantities O_{kj}, x_{i1} ... x_{i9} (or x_{11} ...), y, \\hat{y} (or \\hat y); numbers,
+ -, \\cdot, \\times, implicit multiplication, ( ) and \\left( \\right), \\frac{}{}, powers,
\\log, \\ln, \\exp, \\sigma, relu's derivative as the indicator \\mathbb{1}[O_{kj} > 0],
$ and $$, and spacing commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

__all__ = [
    "MENTIONS_DERIVATIVE",
    "Formula",
    "FormulaSyntaxError",
    "Node",
    "find_formulas",
    "parse_expression",
    "parse_formula",
]

# ("num", value) | ("sym", name, column) | ("neg", a) | ("add"|"sub"|"mul"|"div"|"pow"|"gt", a, b)
# | ("call", fn, a); "gt" only inside the indicator \mathbb{1}[a > b], 1 where a > b, else 0
Node = tuple[Union[str, float, "Node"], ...]

# \frac (or \dfrac, \tfrac) of the loss, by \partial or d, the loss named L, J, E or C (or \mathcal{L})
_FRAC = r"\\[dt]?frac"
_DIFFERENTIAL = r"(?:\\partial\s*|d(?=\s*[A-Z\\{]))"
_LOSS = r"(?:\\mathcal\s*\{\s*[LJEC]\s*\}|[LJEC])"
FORMULA_START = re.compile(_FRAC + r"\s*\{\s*" + _DIFFERENTIAL + r"\{?\s*" + _LOSS + r"\s*\}?\s*\}")
_LABEL = re.compile(r"\s*\{\s*(?:\\partial\s*|d(?=\s*[wb{\\]))")
# a line that talks about a derivative: one it cannot read is listed as skipped, never dropped
MENTIONS_DERIVATIVE = re.compile(r"\\partial|" + _FRAC + r"\s*\{\s*d\s*[A-Z\\{]|\bd[LJEC]\s*/\s*d")
_SPACING = {"\\,", "\\;", "\\:", "\\!", "\\ ", "\\quad", "\\qquad"}
_FUNCTIONS = {"\\log": "log", "\\ln": "log", "\\exp": "exp", "\\sigma": "sigma"}
_MULTIPLY = {"\\cdot", "\\times", "*"}
_FRACS = ("\\frac", "\\dfrac", "\\tfrac")
_MAX_DEPTH = 100  # each level costs five Python frames; the default recursion limit is 1000


class FormulaSyntaxError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


@dataclass(frozen=True)
class Formula:
    line: int  # 1-based, in the file
    label: str  # the parameter it claims to be the gradient of, e.g. "w^2_11"
    expression: Node
    text: str  # the formula as written, from \frac on


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "letter", "cmd", or the punctuation itself
    text: str
    column: int


def _tokens(text: str, offset: int) -> list[_Token]:
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        column = offset + i + 1
        if ch.isspace() or ch in "$~":
            i += 1
        elif ch == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[i:])
            if match is None:
                raise FormulaSyntaxError("a lone backslash", column)
            command = match.group(0)
            i += len(command)
            if command not in _SPACING:
                tokens.append(_Token("cmd", command, column))
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            match = re.match(r"\d*\.?\d+|\d+\.?", text[i:])
            assert match is not None
            tokens.append(_Token("num", match.group(0), column))
            i += len(match.group(0))
        elif ch.isalpha() and ch.isascii():
            tokens.append(_Token("letter", ch, column))
            i += 1
        elif ch in "+-*/^_{}()[]=>":
            tokens.append(_Token(ch, ch, column))
            i += 1
        else:
            raise FormulaSyntaxError(f"unexpected character {ch!r}", column)
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], end_column: int) -> None:
        self.tokens, self.i, self.end_column, self.depth = tokens, 0, end_column, 0

    def peek(self, ahead: int = 0) -> _Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def column(self) -> int:
        token = self.peek()
        return token.column if token else self.end_column

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None:
            raise FormulaSyntaxError(f"expected '{text}', found the end" if text else "unexpected end", self.end_column)
        if text is not None and token.text != text:
            raise FormulaSyntaxError(f"expected '{text}', found '{token.text}'", token.column)
        self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.text in texts

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise FormulaSyntaxError("nested too deeply", self.column())
        node = self.term()
        while self.at("+", "-"):
            op = "add" if self.take().text == "+" else "sub"
            node = (op, node, self.term())
        self.depth -= 1
        return node

    def starts_factor(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        return token.kind in ("num", "letter") or token.text in (
            "(",
            "[",
            "{",
            "\\left",
            *_FRACS,
            "\\hat",
            "\\mathbb",
            *_FUNCTIONS,
        )

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at(*_MULTIPLY):
                self.take()
                node = ("mul", node, self.unary())
            elif self.at("/"):
                self.take()
                node = ("div", node, self.unary())
            elif self.starts_factor():  # implicit multiplication: 2(y - \hat{y})
                node = ("mul", node, self.power())
            else:
                return node

    def unary(self) -> Node:
        if self.at("-"):
            self.take()
            return ("neg", self.unary())
        if self.at("+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.at("^"):
            self.take()
            node = ("pow", node, self.script_value())
        return node

    def script_value(self) -> Node:
        if self.at("{"):
            return self.group()
        token = self.take()
        if token.kind == "num":
            return ("num", float(token.text[0]))  # x^23 is x^2 3, as LaTeX reads it
        if token.kind == "letter":
            return self.symbol_from(token)
        raise FormulaSyntaxError(f"expected an exponent, found '{token.text}'", token.column)

    def group(self) -> Node:
        self.take("{")
        node = self.expression()
        self.take("}")
        return node

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise FormulaSyntaxError("expected a number, a quantity or '('", self.end_column)
        if token.kind == "num":
            self.take()
            return ("num", float(token.text))
        if token.text in ("(", "["):
            self.take()
            node = self.expression()
            self.take(")" if token.text == "(" else "]")
            return node
        if token.text == "{":
            return self.group()
        if token.text == "\\left":
            self.take()
            opening = self.take()
            if opening.text not in ("(", "["):
                raise FormulaSyntaxError(f"expected '(' after \\left, found '{opening.text}'", opening.column)
            node = self.expression()
            self.take("\\right")
            self.take(")" if opening.text == "(" else "]")
            return node
        if token.text in _FRACS:
            self.take()
            return ("div", self.group(), self.group())
        if token.text in _FUNCTIONS:
            self.take()
            return ("call", _FUNCTIONS[token.text], self.power())
        if token.text == "\\mathbb":
            return self.indicator()
        if token.text == "\\hat":
            self.take()
            braced = self.at("{")
            if braced:
                self.take("{")
            letter = self.take()
            if letter.text != "y":
                raise FormulaSyntaxError(f"only \\hat{{y}} is known, not \\hat{{{letter.text}}}", letter.column)
            if braced:
                self.take("}")
            return ("sym", "y_hat", token.column)
        if token.kind == "letter":
            self.take()
            return self.symbol_from(token)
        raise FormulaSyntaxError(f"unexpected '{token.text}'", token.column)

    def indicator(self) -> Node:
        """\\mathbb{1}[a > b] (or with ( ), \\left[ \\right]): 1 where a > b, else 0."""
        self.take("\\mathbb")
        self.take("{")
        one = self.take()
        if one.text != "1":
            raise FormulaSyntaxError(
                f"only the indicator \\mathbb{{1}} is known, not \\mathbb{{{one.text}}}", one.column
            )
        self.take("}")
        left = self.at("\\left")
        if left:
            self.take()
        opening = self.take()
        if opening.text not in ("[", "("):
            raise FormulaSyntaxError(f"expected '[' after \\mathbb{{1}}, found '{opening.text}'", opening.column)
        a = self.expression()
        self.take(">")
        b = self.expression()
        if left:
            self.take("\\right")
        self.take("]" if opening.text == "[" else ")")
        return ("gt", a, b)

    def script_text(self) -> str:
        """The raw letters and digits of a sub- or superscript: _{11}, _1, ^{2}."""
        if self.at("{"):
            self.take("{")
            parts = []
            while not self.at("}"):
                token = self.take()
                if token.text in ("[", "]"):  # w^{[1]}_{11}: the layer in brackets, as some courses write it
                    continue
                if token.kind not in ("num", "letter"):
                    raise FormulaSyntaxError(f"unexpected '{token.text}' in an index", token.column)
                parts.append(token.text)
            self.take("}")
            return "".join(parts)
        token = self.take()
        if token.kind == "num":
            # _11 is _1 then 1, as LaTeX reads it; the document always braces two-digit indices
            return token.text[0]
        if token.kind == "letter":
            return token.text
        raise FormulaSyntaxError(f"expected an index, found '{token.text}'", token.column)

    def symbol_from(self, token: _Token) -> Node:
        letter = token.text
        if letter == "w":
            layer = index = None
            while self.at("^", "_") and (layer is None if self.at("^") else index is None):
                if self.take().text == "^":
                    layer = self.script_text()
                else:
                    index = self.script_text()
            if layer is None or index is None:
                raise FormulaSyntaxError("a weight needs a layer and an index, as w^2_{11}", token.column)
            return ("sym", f"w^{layer}_{index}", token.column)
        if letter in ("b", "O", "x"):
            if not self.at("_"):
                raise FormulaSyntaxError(f"{letter} needs an index, as {letter}_{{11}}", token.column)
            self.take("_")
            index = self.script_text()
            if letter == "x":
                if len(index) != 2 or not index[1].isdigit() or index[1] == "0" or index[0] not in "i1":
                    raise FormulaSyntaxError(f"unknown input x_{{{index}}} (x_{{i1}}, x_{{i2}}, ...)", token.column)
                return ("sym", f"x_{index[1]}", token.column)
            return ("sym", f"{letter}_{index}", token.column)
        if letter == "y":
            return ("sym", "y", token.column)
        raise FormulaSyntaxError(f"unknown symbol '{letter}'", token.column)


def parse_expression(text: str, offset: int = 0) -> Node:
    parser = _Parser(_tokens(text, offset), offset + len(text) + 1)
    node = parser.expression()
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        raise FormulaSyntaxError(f"unexpected '{token.text}'", token.column)
    return node


def parse_formula(line: str, number: int) -> Formula | None:
    """The formula on this line, None if the line holds none; FormulaSyntaxError if it cannot be read."""
    start = FORMULA_START.search(line)
    if start is None:
        return None
    rest = line[start.end() :]
    label = _LABEL.match(rest)
    if label is None:
        raise FormulaSyntaxError("expected {\\partial PARAMETER} after \\frac{\\partial L}", start.end() + 1)
    offset = start.end() + label.end()
    tokens = _tokens(line[offset:], offset)
    parser = _Parser(tokens, len(line) + 1)
    braced = parser.at("{")
    if braced:
        parser.take("{")
    head = parser.take()
    if head.text not in ("w", "b"):
        raise FormulaSyntaxError(f"expected a parameter (w or b), found '{head.text}'", head.column)
    symbol = parser.symbol_from(head)
    if braced:
        parser.take("}")
    parser.take("}")
    equals = parser.take("=")
    body = line[equals.column :]  # column is 1-based: the text after '='
    expression = parse_expression(body, equals.column)
    return Formula(line=number, label=str(symbol[1]), expression=expression, text=line[start.start() :].strip())


def find_formulas(text: str) -> list[Formula]:
    formulas = []
    for number, line in enumerate(text.splitlines(), start=1):
        formula = parse_formula(line, number)
        if formula is not None:
            formulas.append(formula)
    return formulas
