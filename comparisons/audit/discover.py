"""Which of the learner's functions the contract calls, read from the code without running it.

A name given or defaulted is used where the file defines it, or one that differs only
by case. Where it defines neither, the function is picked by its form: the forward
pass takes ``(X, parameters)`` and returns a pair (the output and the hidden
activations); the update takes ``(parameters, y, y_hat, A1, X[, lr])`` and writes
into its first argument; a step takes ``(params, x, y, lr)`` and returns a pair.
Several that fit, or none, is bad input that lists them and names the option that
chooses. A notebook that defines a function the contract uses more than once holds
one group of definitions per redefinition (``groups``): the definitions as they
stand just before each redefinition, and as the notebook leaves them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from comparisons.audit.model import Contract
from comparisons.errors import InputError
from comparisons.notebook import NotebookCode, bound_at_top, defines

__all__ = ["Definitions", "Found", "Group", "find_functions", "groups", "top_level"]


@dataclass(frozen=True)
class _Role:
    what: str  # in messages
    arities: tuple[int, ...]  # positional arguments it is called with
    returns_pair: bool
    writes_first: bool  # changes its first argument in place
    form: str
    option: str


_ROLES = {
    "forward": _Role("forward pass", (2,), True, False, "(X, parameters) -> (y_hat, A1)", "--forward"),
    "update": _Role("update", (5, 6), False, True, "(parameters, y, y_hat, A1, X[, lr])", "--update"),
    "func": _Role("step", (4,), True, False, "(params, x, y, lr) -> (params, loss)", "FILE:FUNC"),
}


@dataclass(frozen=True)
class Found:
    """The contract with the learner's names, and what was said about finding them."""

    contract: Contract
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Group:
    """One group of definitions: the first ``upto`` cells taken, and where each function is defined."""

    upto: int
    cells: dict[str, int]  # function -> the cell of the definition this group uses
    taken: tuple[int, ...]  # the cells it takes, in the order taken
    in_document_order: bool  # every code cell from the first taken to the last

    def describe(self) -> str:
        where = ", ".join(f"{name} in cell {cell}" for name, cell in self.cells.items())
        first, last = self.taken[0], self.taken[-1]
        if len(self.taken) == 1:
            return f"cell {first} ({where})"
        if self.in_document_order:
            return f"cells {first}-{last} ({where})"
        return f"cells {', '.join(map(str, self.taken[:-1]))} and {last}, in the order they ran ({where})"


@dataclass(frozen=True)
class Definitions:
    """What the code defines at its top level, read without running it."""

    functions: list[tuple[ast.FunctionDef, str]]  # each definition, with where (``cell 3``, ``line 12``)
    bound: set[str]  # every name bound, by a definition, an import or an assignment
    complete: bool  # nothing else runs: no name can be bound that is not seen here


def _inert_at_import(statement: ast.stmt) -> bool:
    """A docstring, ``pass``, or ``if __name__ == "__main__":``: importing the file runs none of it."""
    if isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    ):
        return True
    if not isinstance(statement, ast.If) or statement.orelse:
        return False
    test = statement.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and [type(op) for op in test.ops] == [ast.Eq]
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def top_level(code: NotebookCode | None, source: str | None) -> Definitions:
    """A notebook's kept definitions (all that will run), or a .py file's top level."""
    skipped: set[str] = set()
    if code is not None:
        statements = [(st, f"cell {cell}") for cell, st in code.kept]
        skipped = set(code.skipped_names)  # bound by a statement not run: the run says so
        complete = True
    else:
        statements = [(st, f"line {st.lineno}") for st in ast.parse(source or "").body]
        complete = all(defines(st) or _inert_at_import(st) for st, _ in statements)
    functions = [(st, where) for st, where in statements if isinstance(st, ast.FunctionDef)]
    bound = {name for st, _ in statements for name in bound_at_top(st)} | skipped
    return Definitions(functions, bound, complete)


def _signature(fn: ast.FunctionDef) -> str:
    return f"{fn.name}({ast.unparse(fn.args)})"


def _binds(fn: ast.FunctionDef, count: int) -> bool:
    args = fn.args
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    kw_required = sum(default is None for default in args.kw_defaults)
    return kw_required == 0 and required <= count and (count <= positional or args.vararg is not None)


def _own_nodes(fn: ast.FunctionDef) -> list[ast.AST]:
    """The function's body, without the bodies of functions and classes defined inside it."""
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        nodes.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return nodes


def _returns_pair(fn: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2
        for node in _own_nodes(fn)
    )


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _writes_first(fn: ast.FunctionDef) -> bool:
    """Assigns into its first argument (``parameters['W1'] -= ...``), or updates in place an
    array taken from it (``W1 = parameters['W1']; W1 -= ...``)."""
    args = [*fn.args.posonlyargs, *fn.args.args]
    if not args:
        return False
    names = {args[0].arg}
    nodes = _own_nodes(fn)
    for node in nodes:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript) and _root(node.value) in names:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for node in nodes:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _root(node) in names:
            return True
        if isinstance(node, ast.AugAssign) and _root(node.target) in names - {args[0].arg}:
            return True
    return False


def _fits(fn: ast.FunctionDef, role: _Role) -> bool:
    return (
        any(_binds(fn, n) for n in role.arities)
        and (not role.returns_pair or _returns_pair(fn))
        and (not role.writes_first or _writes_first(fn))
    )


def _pick(path: str, key: str, name: str, default: str, code: Definitions, taken: set[str]) -> tuple[str, str | None]:
    """The learner's function for one role, and what to say about it (None: found by its name,
    or left to the run to find: a .py file that runs more than definitions may bind it as it runs)."""
    functions = code.functions
    names = {fn.name for fn, _ in functions}
    if name in code.bound:
        return name, None
    role = _ROLES[key]
    listing = "; ".join(dict.fromkeys(f"{_signature(fn)} ({where})" for fn, where in functions))
    listing = f"it defines: {listing}" if listing else "it defines no function at all"
    choose = "FILE:NAME (grade: --func NAME)" if key == "func" else f"{role.option} NAME"
    if name != default:  # a name the learner gave: never replaced by a guess
        if code.complete:
            raise InputError(f"{path}: defines no function {name!r}; {listing}")
        return name, None
    same = sorted({n for n in names if n.lower() == name.lower()})
    if len(same) == 1:
        return same[0], f"used {same[0]} as the {role.what} (no {name}: the same name but for case)"
    fitting = [(fn, where) for fn, where in functions if fn.name not in taken and _fits(fn, role)]
    unique = list(dict.fromkeys(fn.name for fn, _ in fitting))
    if len(unique) == 1:
        fn = next(f for f, _ in reversed(fitting))
        return fn.name, f"used {_signature(fn)} as the {role.what}: no {name}, and it alone has the form {role.form}"
    if not code.complete:
        return name, None
    if unique:
        options = "; ".join(dict.fromkeys(f"{_signature(fn)} ({where})" for fn, where in fitting))
        raise InputError(
            f"{path}: defines no function {name!r}, and several have the {role.what}'s form {role.form}: "
            f"{options}; choose one with {choose}"
        )
    another = f"; choose one with {choose}" if functions else ""
    raise InputError(
        f"{path}: defines no function {name!r}, and none has the {role.what}'s form {role.form}; {listing}{another}"
    )


def find_functions(path: str, contract: Contract, functions: Definitions) -> Found:
    """The contract with the learner's own function names."""
    default = Contract()
    if contract.kind == "step":
        func, note = _pick(path, "func", contract.func, default.func, functions, set())
        found = Contract(contract.kind, func, contract.forward, contract.update, contract.layout)
        return Found(found, [note] if note else [])
    forward, forward_note = _pick(path, "forward", contract.forward, default.forward, functions, set())
    update, update_note = _pick(path, "update", contract.update, default.update, functions, {forward})
    notes = [note for note in (forward_note, update_note) if note]
    return Found(Contract(contract.kind, contract.func, forward, update, contract.layout), notes)


def _sets_only(source: str) -> bool:
    """A cell that only sets values (``lr = 0.0001``, an import): the start of the part that
    follows it, not the end of the one before."""
    body = ast.parse(source).body
    return bool(body) and all(
        defines(st) and not isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for st in body
    )


def groups(code: NotebookCode, names: list[str]) -> list[Group]:
    """The groups of definitions of ``names`` that define them all. A new group starts where a
    function the group already defines is defined again (a notebook's regression functions,
    then its classification ones, redefined cell by cell, make two groups, not one per cell),
    or at the cells just before that which only set values (the classification part's
    ``lr = 0.0001``); a group takes every cell before, as they stood when its part ran (a
    training loop in between keeps the rate set before it)."""
    numbers = [number for number, _ in code.sources]
    setting = [_sets_only(source) for _, source in code.sources]
    in_order = code.order == "document"
    found: list[Group] = []
    current: dict[str, int] = {}
    fresh: set[str] = set()  # the functions defined since the group started
    for cell, statement in code.kept:
        function = statement.name if isinstance(statement, ast.FunctionDef) and statement.name in names else None
        if function is None:
            continue
        if function in fresh:
            upto = numbers.index(cell)
            while upto > 0 and setting[upto - 1]:
                upto -= 1
            if upto > 0:
                found.append(Group(upto, dict(current), tuple(numbers[:upto]), in_order))
            fresh = set()
        current[function] = cell
        fresh.add(function)
    found.append(Group(len(numbers), current, tuple(numbers), in_order))
    return [group for group in found if set(group.cells) == set(names)]
