"""A formula sheet as read (a text, Markdown or a notebook's markdown cells), and what its audit finds
(rendered by render.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comparisons.errors import InputError
from comparisons.formulas.latex import MENTIONS_DERIVATIVE, Formula, FormulaSyntaxError, parse_formula
from comparisons.formulas.render import page_json, page_text, sheet_json, sheet_text
from comparisons.notebook import NotebookError, notebook_sources

__all__ = ["PageAudit", "Sheet", "SheetAudit", "Verdict", "no_formula_read", "read_sheet"]


@dataclass(frozen=True)
class Verdict:
    line: int  # 1-based, in the file, or in the notebook's cell
    parameter: str | None  # None: a skipped line whose label could not be read
    verdict: str  # correct | mislabeled | sign | factor | wrong | unknown-parameter | skipped
    actual: str | None = None  # mislabeled: the parameter whose derivative it really is
    factor: float | None = None  # factor: expression = factor * true derivative
    cell: int | None = None  # a notebook's cell, 1-based among all its cells
    reason: str | None = None  # skipped: why the line could not be read


@dataclass(frozen=True)
class SheetAudit:
    network: str
    lines: list[Verdict]  # in the sheet's order, skipped lines included
    missing: list[str]
    duplicates: list[str]

    @property
    def clean(self) -> bool:
        return all(v.verdict == "correct" for v in self.lines) and not self.missing

    def as_text(self) -> str:
        return sheet_text(self)

    def as_json(self) -> dict[str, Any]:
        return sheet_json(self)


@dataclass(frozen=True)
class PageAudit:
    """``--network auto``: each block of consecutive formulas against the network that fits it best."""

    blocks: list[SheetAudit]
    skipped: list[Verdict]  # the lines that mention a derivative but could not be read

    @property
    def clean(self) -> bool:
        return all(b.clean for b in self.blocks) and not self.skipped

    def as_text(self) -> str:
        return page_text(self)

    def as_json(self) -> dict[str, Any]:
        return page_json(self)


@dataclass(frozen=True)
class Sheet:
    """A sheet's formulas and the lines that mention a derivative but could not be read."""

    formulas: list[Formula]  # Formula.line: the position among the sheet's lines, 1-based
    skipped: list[tuple[int, str]]  # (position, reason)
    texts: list[str]  # every line of the sheet
    places: list[tuple[int | None, int]]  # per position: (notebook cell or None, line in file or cell)
    path: Path  # the file read: what an error about the whole sheet names

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
    sheet = Sheet(formulas, skipped, [text for _, _, text in lines], [(cell, line) for cell, line, _ in lines], path)
    if not formulas:  # "0 of 0 formulas correct" would say nothing about the sheet
        raise no_formula_read(sheet, [(*sheet.place(position), reason) for position, reason in skipped])
    return sheet


def no_formula_read(sheet: Sheet, unread: list[tuple[int | None, int, str]], whose: str | None = None) -> InputError:
    """Bad input in one line: no line of the sheet parses (``whose``, e.g. "the regression network's":
    none of its formulas is in those quantities). ``unread``: (cell, line, reason) of each line, in order."""
    cell, line, reason = unread[0]
    where = f"line {line}" if cell is None else f"cell {cell}, line {line}"
    one = len(unread) == 1
    count = f"{len(unread)} line{'' if one else 's'} mention{'s' if one else ''} a derivative"
    if whose is None:
        problem = f"{count} but {'it does not parse' if one else 'none parses'}"
    else:
        problem = f"{count} but {'it is not' if one else 'none is'} a formula in {whose} quantities"
    return InputError(f"{sheet.path}: no formula could be read: {problem} ({where}: {reason})")
