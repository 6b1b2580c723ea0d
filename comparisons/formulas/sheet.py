"""A formula sheet as read (a text, Markdown or a notebook's markdown cells), and what its audit finds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comparisons.errors import InputError
from comparisons.formulas.latex import MENTIONS_DERIVATIVE, Formula, FormulaSyntaxError, parse_formula
from comparisons.notebook import NotebookError, notebook_sources

__all__ = ["PageAudit", "Sheet", "SheetAudit", "Verdict", "read_sheet", "verdict_table"]


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
        return "\n".join([*verdict_table(self.lines), self.summary()])


def verdict_table(lines: list[Verdict], networks: list[str] | None = None) -> list[str]:
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
        lines = verdict_table([v for v, _ in ordered], [network for _, network in ordered])
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
