"""The dependency direction is one-way: comparisons -> reference, manual; never back, never across."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> set[str]:
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        pytest.param("manual", {"tensorflow", "keras", "reference", "comparisons"}, id="manual-is-pure-numpy"),
        pytest.param("reference", {"manual", "comparisons"}, id="reference-knows-only-keras"),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    assert _imports(package) & forbidden == set()


def test_importing_manual_and_comparisons_does_not_load_tensorflow() -> None:
    """Checked in a fresh interpreter, so an indirect import would show too. reference/'s
    configuration, protocol and runner are light too: a cached run decides where Keras would run
    (and under what configuration) without importing it."""
    light = "manual, comparisons, comparisons.run, comparisons.audit.worker, reference, reference.runner"
    code = f"import sys, {light}; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["comparisons", "comparisons.audit"])
def test_every_public_name_of_a_package_is_what_it_says(package: str) -> None:
    """The packages' names load lazily; with every submodule imported (which binds each
    submodule's name on its package), each still gives the function or class, never a module."""
    import importlib
    import pkgutil
    import types

    import comparisons

    for module in pkgutil.walk_packages(comparisons.__path__, "comparisons."):
        if module.name not in ("comparisons.__main__", "comparisons.audit.worker"):
            importlib.import_module(module.name)
    loaded = importlib.import_module(package)
    for name in loaded.__all__:
        value = getattr(loaded, name)
        assert not isinstance(value, types.ModuleType), name
        assert value is getattr(importlib.import_module(f"{package}.{loaded._WHERE[name]}"), name)


def _name(path: Path) -> str:
    """``run``, ``audit.worker``; a package's ``__init__`` by the package's name (``audit``)."""
    parts = path.relative_to(ROOT / "comparisons").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


MODULES = {_name(p): p for p in sorted((ROOT / "comparisons").rglob("*.py"))}


def _module_imports(path: Path) -> set[str]:
    """The comparisons modules ``path`` imports when it runs: at the top and inside functions
    alike (a lazy import is still an arrow), never those only type checkers read."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("comparisons"):
                base = child.module.removeprefix("comparisons").removeprefix(".")
                for alias in child.names:  # ``from comparisons.audit import protocol`` names a module
                    found.add(
                        f"{base}.{alias.name}".lstrip(".") if f"{base}.{alias.name}".lstrip(".") in MODULES else base
                    )
            elif isinstance(child, ast.Import):
                found.update(
                    a.name.removeprefix("comparisons.") for a in child.names if a.name.startswith("comparisons.")
                )
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return (found & set(MODULES)) - {_name(path)}


# Lowest first: a module imports only from layers below its own. The results and their renderers
# sit under the runs; the audit and the formula sheets above them, never importing each other; the
# CLI on top. The packages' __init__ load their names by importlib, when first used: the top layer.
LAYERS = [
    {
        "errors",
        "problems",
        "tolerances",
        "ulp",
        "step_bound",
        "formulas.latex",
        "notebook",
        "cache",
        "audit.protocol",
        "audit.limits",
        "audit.returns",
    },
    {"spec", "formulas.derive", "testing", "folders", "audit.sandbox", "audit.layouts", "cells"},
    {
        "audit.user_code",
        "audit.choice",
        "render.columns",
        "render.page",
        "render.plots",
        "render.sentences",
        "render.tables",
        "audit.render.sentences",
        "audit.render.tables",
    },
    {"audit.optimizer_code"},
    {"audit.optimizer_runs"},
    {
        "audit.worker",
        "render.text",
        "render.json",
        "render.markdown",
        "render.html",
        "audit.render.text",
        "audit.render.plots",
        "formulas.render",
    },
    {"audit.findings", "audit.render.html"},
    {"audit.rubric"},
    {"audit.scores"},
    {"audit.render.feedback"},
    {"audit.scored", "audit.render.json"},
    {"audit.forced", "audit.causes"},
    {"audit.optimizer_verdict"},
    {"audit.diagnosis"},
    {"audit.network_diagnosis"},
    {"data", "comparison"},
    {"run"},
    {"per_step"},
    {"verdict"},
    {"audit.model", "audit.keras_steps", "audit.isolation", "report", "formulas.gradients", "formulas.sheet"},
    {"formulas.audit", "audit.discover"},
    {"audit.divergence", "audit.known_bugs"},
    {"audit.auditor"},
    {"audit.optimizer_audit"},
    {"audit.grade", "audit.api", "bench"},
    {"platforms.gradescope"},
    {"cli.values"},
    {"cli.options"},
    {"cli.parser"},
    {"cli.specs"},
    {"cli.text"},
    {"cli.grading"},
    {"cli.autograder"},
    {"cli.main"},
    {"cli"},
    {"__main__", "__init__", "audit", "formulas", "render", "audit.render", "platforms"},
]

# A module over 400 lines does more than one job: split it.
OVER_THE_LIMIT: dict[str, int] = {}


def test_every_module_has_a_layer() -> None:
    placed = [m for layer in LAYERS for m in layer]
    assert sorted(placed) == sorted(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    """No circle can form: every arrow, lazy ones included, goes to a lower layer."""
    level = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    upward = {m for m in _module_imports(MODULES[name]) if level[m] >= level[name]}
    assert upward == set(), f"{name} (layer {level[name]}) imports {upward} from its layer or above"


def test_the_audit_and_the_formula_sheets_never_import_each_other() -> None:
    audit, formulas = ({name for name in MODULES if name.split(".")[0] == top} for top in ("audit", "formulas"))
    for group, other in ((audit, formulas), (formulas, audit)):
        for name in group:
            assert _module_imports(MODULES[name]) & other == set(), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_400_lines(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= OVER_THE_LIMIT.get(name, 400), f"{name}: {lines} lines"


def test_every_package_is_installed() -> None:
    """pyproject.toml lists the packages by hand: a new subpackage left out would be missing from
    ``pip install .``, the README's first command, though every test here still passes."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("manual", "reference", "comparisons")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert listed == found


def _manual_imports(path: Path) -> set[str]:
    """The manual modules ``path`` imports, lazy ones included: ``row.bugs``, ``network``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("manual."):
            found.add(node.module.removeprefix("manual."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("manual.") for a in node.names if a.name.startswith("manual."))
    return found


@pytest.mark.parametrize(("stack", "other"), [("row", "batch"), ("batch", "row")])
def test_the_two_manual_stacks_never_import_each_other(stack: str, other: str) -> None:
    """manual/row/ (the document's exact per-row algorithm) and manual/batch/ (any network in
    mini-batches) share only manual/'s own modules: each can be read, and trusted, alone."""
    paths = sorted((ROOT / "manual" / stack).rglob("*.py"))
    assert paths
    for path in paths:
        crossing = {m for m in _manual_imports(path) if m.split(".")[0] == other}
        assert crossing == set(), f"{path.relative_to(ROOT)} imports {crossing}"
    for path in sorted((ROOT / "manual").glob("*.py")):  # the shared modules sit below both stacks
        if path.name != "__init__.py":
            upward = {m for m in _manual_imports(path) if m.split(".")[0] in ("row", "batch")}
            assert upward == set(), f"{path.relative_to(ROOT)} imports {upward}"


# The worker's own parts, split off for size: what the learner's code is called through
WORKER_PARTS = (
    "audit.limits",
    "audit.returns",
    "audit.layouts",
    "audit.choice",
    "audit.user_code",
    "audit.optimizer_code",
    "audit.optimizer_runs",
)


def test_the_worker_knows_only_the_protocol_the_notebook_reader_and_manual() -> None:
    """The worker runs the learner's code: what it imports runs beside that code, so it takes the
    job and the result from audit/protocol.py and nothing else of the harness but its own parts;
    IPython's transformation of a notebook's cells is the parent's (comparisons/cells.py)."""
    imports = _module_imports(MODULES["audit.worker"])
    assert "audit.protocol" in imports
    assert imports <= {"audit.protocol", *WORKER_PARTS}
    for part in WORKER_PARTS:
        assert _module_imports(MODULES[part]) <= {"audit.protocol", "notebook", *WORKER_PARTS}, part
    for name in ("audit.worker", *WORKER_PARTS):
        tree = ast.parse(MODULES[name].read_text())
        tops = {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        } | {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        assert tops - set(sys.stdlib_module_names) <= {"numpy", "comparisons", "manual"}, name
