"""A notebook's code cells as a module of definitions, never running the rest.

A learner's notebook defines its functions among cells that read a CSV from a
Colab path, train for many epochs, plot and ``!pip install``. The audit needs
only the definitions, so of the code cells, in the order taken, it keeps the
statements that define things: imports, function and class definitions, and
assignments whose value is a literal (``lr = 0.001``). Every other statement is
skipped and counted, the shell and magic lines IPython turned into calls among
them (comparisons.cells reads the notebook as IPython does). An import that no
kept definition uses is skipped too (TensorFlow for the closing comparison with
Keras, google.colab). A name that a kept definition uses but that the notebook
never binds anywhere is refused up front, with its cell and line. Standard
library only: the audit's child process builds its module with ``definitions``.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass, field

__all__ = [
    "NotebookCode",
    "NotebookError",
    "bound_at_top",
    "cell_filename",
    "cell_source",
    "code_cells",
    "defines",
    "definitions",
    "functions_defined",
    "notebook_sources",
]


class NotebookError(ValueError):
    """What is wrong with the notebook, in one line (without the path)."""


@dataclass(frozen=True)
class NotebookCode:
    cells: int  # code cells
    kept: list[tuple[int, ast.stmt]]  # (cell number among all the cells, statement), in order
    skipped: int  # statements (shell and magic lines among them) not run
    # names bound only by statements the audit does not run: name -> (cell, line)
    skipped_names: dict[str, tuple[int, int]] = field(default_factory=dict)
    # the cells taken, as Python (IPython's transformation done), in the order taken: what the child runs
    sources: tuple[tuple[int, str], ...] = ()
    order: str = "document"  # or "execution": every code cell has an execution count
    selected: tuple[int, int] | None = None  # --cells A-B, where the learner chose


def cell_filename(path: str, cell: int) -> str:
    """The file name a kept statement is compiled under, so a traceback names its cell."""
    return f"{path} [cell {cell}]"


def cell_source(cell: dict[str, object]) -> str:
    """A cell's text: a string, or a list of strings as nbformat writes it."""
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise NotebookError("not a notebook (a cell's source is neither text nor a list of lines)")


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


_INERT = (ast.Name, ast.Attribute, ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.Load, ast.UnaryOp, ast.USub)


def _inert(node: ast.AST | None) -> bool:
    """An expression that only names or spells a value (``np.ndarray``, ``0.001``, ``int | None``):
    a default, decorator or annotation made of it runs nothing when the definition is made."""
    if node is None:
        return True
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):
            continue
        if not isinstance(n, (*_INERT, ast.BitOr)):
            return False
    return True


def _definition_runs_nothing(statement: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    """Making the definition runs only inert expressions: decorators, defaults, annotations and
    base classes name things; a class body holds only definitions itself."""
    if not all(_inert(d) for d in statement.decorator_list):
        return False
    if isinstance(statement, ast.ClassDef):
        return all(_inert(b) for b in statement.bases) and all(
            (defines(s) and not isinstance(s, ast.Import | ast.ImportFrom))
            or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            or isinstance(s, ast.Pass)
            for s in statement.body
        )
    args = statement.args
    annotations = [
        a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a
    ]
    return all(_inert(d) for d in [*args.defaults, *args.kw_defaults, *annotations, statement.returns])


def defines(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return True
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return _definition_runs_nothing(statement)
    if isinstance(statement, ast.Assign):
        return all(isinstance(t, ast.Name) for t in statement.targets) and _is_literal(statement.value)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and statement.value is not None and _is_literal(statement.value)
    return False


def bound_at_top(statement: ast.stmt) -> set[str]:
    """Every name a top-level statement binds in the module, wherever in it."""
    names: set[str] = set()
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _free_names(definition: ast.stmt) -> list[ast.Name]:
    """Names a definition reads that nothing inside it binds (over-counting what is local, so
    that only a name bound nowhere at all is ever reported)."""
    local: set[str] = set()
    loads: list[ast.Name] = []
    for node in ast.walk(definition):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loads.append(node)
            else:
                local.add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            local.add(node.name)
        elif isinstance(node, ast.alias):
            local.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            local.update(node.names)
    return [name for name in loads if name.id not in local]


def notebook_sources(text: str, kind: str) -> list[tuple[int, str]]:
    """(number, source) of the notebook's cells of one kind ("code", "markdown"), each numbered
    by its place among all the cells, as Jupyter shows them; NotebookError if it is no notebook."""
    return [(number, source) for number, source, _ in _cells(text, kind)]


def code_cells(text: str) -> list[tuple[int, str, int | None]]:
    """(number, source, execution count or None) of the notebook's code cells."""
    return _cells(text, "code")


def _cells(text: str, kind: str) -> list[tuple[int, str, int | None]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not a notebook (not JSON: {error.msg} at line {error.lineno})") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook (no list of cells)")
    found = []
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == kind:
            count = cell.get("execution_count")
            found.append((number, cell_source(cell), count if isinstance(count, int) else None))
    return found


def functions_defined(code: NotebookCode) -> dict[str, list[int]]:
    """Each top-level function the kept definitions make, with the cells that define it, in order."""
    defined: dict[str, list[int]] = {}
    for cell, statement in code.kept:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            defined.setdefault(statement.name, []).append(cell)
    return defined


def definitions(filename: str, sources: list[tuple[int, str]], cells: int) -> NotebookCode:
    """The definitions of these cells (already Python: IPython's transformation done), in the
    order given; NotebookError naming the cell and line if one cannot be read. ``cells``: how
    many code cells the notebook has in all."""
    kept: list[tuple[int, ast.stmt]] = []
    skipped, bound_kept = 0, set()
    bound_skipped: dict[str, tuple[int, int]] = {}
    for number, source in sources:
        try:
            tree = ast.parse(source, filename=cell_filename(filename, number))
        except SyntaxError as error:
            raise NotebookError(f"cell {number}, line {error.lineno}: not valid Python: {error.msg}") from None
        except (RecursionError, MemoryError):  # Python's own parser gives up: Jupyter could not run it either
            raise NotebookError(f"cell {number}: nested too deeply for Python's parser") from None
        for statement in tree.body:
            if defines(statement):
                kept.append((number, statement))
                bound_kept |= bound_at_top(statement)
            else:
                skipped += 1
                for name in bound_at_top(statement):
                    bound_skipped.setdefault(name, (number, statement.lineno))
    # an import no kept definition uses is not run either: the notebook's last cells often import
    # TensorFlow to compare with Keras, and google.colab exists only on Colab
    used = {use.id for _, statement in kept for use in _free_names(statement)}
    imports = [(n, st) for n, st in kept if isinstance(st, ast.Import | ast.ImportFrom)]
    for number, statement in imports:
        if not bound_at_top(statement) & used:
            kept.remove((number, statement))
            skipped += 1
    known = bound_kept | set(bound_skipped) | set(dir(builtins)) | {"__name__", "__file__", "get_ipython", "display"}
    for number, statement in kept:
        for use in _free_names(statement):
            if use.id not in known:
                raise NotebookError(f"cell {number}, line {use.lineno}: name {use.id!r} is used but never defined")
    only_skipped = {name: where for name, where in bound_skipped.items() if name not in bound_kept}
    return NotebookCode(cells, kept, skipped, only_skipped, tuple(sources))
