"""Read a notebook's code cells as Jupyter runs them: IPython's own input transformation, in
the order the cells ran, the range a learner chose.

IPython strips a cell's common leading indentation and turns ``%magic``, ``!shell``
and ``x?`` lines into calls, which comparisons.notebook then skips as statements
that define nothing. A cell IPython cannot make Python of is refused with its cell
and line. Cells are taken in document order, or in execution order where every
code cell that holds code has an execution count (a notebook run out of order
leaves its definitions as the last run made them). This runs in the audit's
parent: the child gets the transformed cells and keeps to the standard library.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from comparisons.notebook import NotebookCode, NotebookError, code_cells, definitions

__all__ = ["read_notebook", "transform"]


# cell magics that run their body as Python in the notebook's namespace: the body's definitions stand
_PYTHON_CELL_MAGICS = ("%%time", "%%capture")


def transform(source: str) -> str:
    """The cell as the Python IPython runs, line for line: the blank lines IPython drops from a
    cell's start are kept, so that every message names the learner's own line."""
    # imported here: IPython takes 0.6 s to import, and only notebooks need it
    from IPython.core.inputtransformer2 import TransformerManager

    lines = source.splitlines(keepends=True)
    blank = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    rest = "".join(lines[blank:])
    first = rest.split("\n", 1)[0].split()
    if first and first[0] in _PYTHON_CELL_MAGICS:  # the magic's line blanked, its body read as a cell
        return "\n" * (blank + 1) + transform(rest.split("\n", 1)[1] if "\n" in rest else "")
    python = str(TransformerManager().transform_cell(rest))  # type: ignore[no-untyped-call]  # IPython is untyped
    return "\n" * blank + python


def read_notebook(path: Path, cells: tuple[int, int] | None = None) -> NotebookCode:
    """The notebook's definitions, cells ``A-B`` only where given (numbered by their place among
    all the cells, as every message numbers them); NotebookError naming the cell and line if it
    cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotebookError(f"cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise NotebookError("not a notebook (not UTF-8 text)") from None
    found = code_cells(text)
    with_code = [cell for cell in found if cell[1].strip()]
    ran = bool(with_code) and all(count is not None for _, _, count in with_code)
    # a notebook run top to bottom has every count too, in document order: that is what it says then
    in_execution_order = ran and [cell[2] for cell in with_code] != sorted(cell[2] or 0 for cell in with_code)
    # in execution order, a cell never run (no count) holds no code: it changes nothing where it stands
    taken = sorted(with_code, key=lambda cell: (cell[2] or 0, cell[0])) if in_execution_order else found
    if cells is not None:
        first, last = cells
        numbers = {number for number, _, _ in found}
        if not numbers & set(range(first, last + 1)):
            raise NotebookError(f"--cells {first}-{last} holds no code cell (code cells: {_ranges(sorted(numbers))})")
        taken = [cell for cell in taken if first <= cell[0] <= last]
    sources = []
    for number, source, _ in taken:
        try:
            sources.append((number, transform(source)))
        except SyntaxError as error:
            raise NotebookError(f"cell {number}, line {error.lineno}: not valid Python: {error.msg}") from None
    code = definitions(str(path), sources, len(found))
    order = "execution" if in_execution_order else "document"
    return replace(code, order=order, selected=cells)


def _ranges(numbers: list[int]) -> str:
    """``1-3, 5, 8-9``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
