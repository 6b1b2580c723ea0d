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
    light = "manual, comparisons, comparisons.run, comparisons.audit_worker, reference, reference.runner"
    code = f"import sys, {light}; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_every_public_name_of_comparisons_is_what_it_says() -> None:
    """The package's names load lazily; with every submodule imported (which binds each
    submodule's name on the package), each still gives the function or class, never a module."""
    import importlib
    import pkgutil
    import types

    import comparisons

    for module in pkgutil.iter_modules(comparisons.__path__):
        if module.name not in ("__main__", "audit_worker"):
            importlib.import_module(f"comparisons.{module.name}")
    for name in comparisons.__all__:
        value = getattr(comparisons, name)
        assert not isinstance(value, types.ModuleType), name
        assert value is getattr(importlib.import_module(f"comparisons.{comparisons._WHERE[name]}"), name)


def _module_imports(path: Path) -> set[str]:
    """The comparisons modules ``path`` imports when it runs: at the top and inside functions
    alike (a lazy import is still an arrow), never those only type checkers read."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("comparisons"):
                parts = child.module.split(".")
                found.update([parts[1]] if len(parts) > 1 else [a.name for a in child.names])
            elif isinstance(child, ast.Import):
                found.update(a.name.split(".")[1] for a in child.names if a.name.startswith("comparisons."))
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    modules = {p.stem for p in (ROOT / "comparisons").glob("*.py")}
    return (found & modules) - {path.stem}


# Lowest first: a module imports only from layers below its own. Results and their renderers sit
# under the runs; the audit and the formula sheets above them, never importing each other; the CLI on top.
LAYERS = [
    {"errors", "problems", "tolerances", "ulp", "latex", "notebook", "sandbox", "cache"},
    {"spec", "datasets", "diagnosis", "derive", "testing", "audit_worker", "plots", "folders"},
    {"jupyter_html"},
    {"comparison"},
    {"run"},
    {"network"},
    {"audit", "formula_audit", "report"},
    {"grade", "jupyter", "bench"},
    {"network_cli"},
    {"cli"},
    {"__main__", "__init__"},  # __init__ loads its names by importlib, when first used
]
AUDIT = {"audit", "audit_worker", "diagnosis", "sandbox", "grade", "jupyter", "jupyter_html"}
FORMULAS = {"formula_audit", "latex", "derive"}


def test_every_module_has_a_layer() -> None:
    placed = [m for layer in LAYERS for m in layer]
    assert sorted(placed) == sorted(p.stem for p in (ROOT / "comparisons").glob("*.py"))


@pytest.mark.parametrize("path", sorted((ROOT / "comparisons").glob("*.py")), ids=lambda p: p.stem)
def test_imports_point_down(path: Path) -> None:
    """No circle can form: every arrow, lazy ones included, goes to a lower layer."""
    level = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    upward = {m for m in _module_imports(path) if level[m] >= level[path.stem]}
    assert upward == set(), f"{path.stem} (layer {level[path.stem]}) imports {upward} from its layer or above"


def test_the_audit_and_the_formula_sheets_never_import_each_other() -> None:
    for group, other in ((AUDIT, FORMULAS), (FORMULAS, AUDIT)):
        for name in group:
            assert _module_imports(ROOT / "comparisons" / f"{name}.py") & other == set(), name
