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
