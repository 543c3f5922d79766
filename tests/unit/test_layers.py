"""House rule: only workbench.gui imports PySide6 (DESIGN.md section 2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import workbench

QT_FREE = ["core", "store", "sync", "trees", "remote", "services"]
PACKAGE = Path(workbench.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", QT_FREE)
def test_source_never_mentions_qt(package: str) -> None:
    files = list((PACKAGE / package).rglob("*.py"))
    assert files, f"workbench/{package} has no modules"
    offenders = {
        str(f.relative_to(PACKAGE)): sorted(n for n in _imports(f) if n.startswith("PySide6"))
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_every_qt_free_module_loads_no_qt() -> None:
    modules = sorted(
        ".".join(("workbench", *f.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for package in QT_FREE
        for f in (PACKAGE / package).rglob("*.py")
        if "migrations" not in f.parts
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import workbench.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
